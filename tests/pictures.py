"""An item's pictures for the channel tests (feeds, ninjs, bulletin boards)."""

from tests.portal.helpers import make_image


def picture_fields(*, size=(1600, 1200)) -> dict:
    """NewsItem fields for a lead picture with caption and credit and a gallery of two
    described pictures and one without alt text (which every channel leaves out)."""
    lead = make_image(description="Cầu mới bắc qua kênh Xáng", title="cau.png", size=size)
    second = make_image(description="Người dân đi qua cầu", title="nguoi.png", size=(800, 600))
    undescribed = make_image(description="", title="khong-mo-ta.png")
    return {
        "image": lead,
        "image_caption": "Lễ khánh thành sáng 03/12 & <b>không phải thẻ</b>",
        "image_credit": "Ảnh: Lê Văn Chụp",
        "gallery": [
            ("picture", {"image": second, "caption": "", "credit": "Ảnh: Trần Thị Hai"}),
            ("picture", {"image": undescribed, "caption": "Không mô tả", "credit": ""}),
        ],
    }
