"""An item's pictures: chosen in the editor, refused without alt text, read in order."""

import html
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from newsroom.models import NewsItem, Role, content_differs
from newsroom.pictures import item_pictures
from tests.factories import make_user
from tests.portal.helpers import make_image

ADD = "wagtailsnippets_newsroom_newsitem:add"


@pytest.fixture
def reporter(tree):
    return make_user("phongvien_anh", unit=tree["A"], role=Role.REPORTER)


def _post(client, tree, headline, *, lead=None, gallery=()):
    data = {
        "unit": tree["A"].pk,
        "kind": "article",
        "distribution": "province",
        "headline": headline,
        "summary": "Tóm tắt",
        "body": rich_text("<p>Nội dung</p>"),
        "image": lead.pk if lead else "",
        "image_caption": "Lễ ra quân sáng 03/12",
        "image_credit": "Ảnh: Lê Văn Chụp",
    }
    data.update(
        nested_form_data(
            {
                "gallery": streamfield(
                    [
                        ("picture", {"image": image.pk, "caption": caption, "credit": credit})
                        for image, caption, credit in gallery
                    ]
                )
            }
        )
    )
    return client.post(reverse(ADD), data)


def _gallery_messages(page: str) -> list[str]:
    """The messages the editor shows beside the gallery's pictures (the block widget's
    arguments carry them; Wagtail's script puts them under each picture)."""
    match = re.search(r'id="gallery"[^>]*data-w-block-arguments-value="([^"]*)"', page)
    _value, errors = json.loads(html.unescape(match.group(1)))
    messages = []
    for child in (errors or {}).get("blockErrors", {}).values():
        for field in child.get("blockErrors", {}).values():
            messages.extend(field["messages"])
    return messages


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_lead_picture_without_alt_text_is_refused_with_a_message(tree, reporter):
    bare = make_image(description="", title="khong-mo-ta.png")
    response = _post(_client(reporter), tree, "Tin có ảnh thiếu mô tả", lead=bare)
    page = response.content.decode()
    assert response.status_code == 200
    assert "chưa có mô tả thay thế (alt)" in page and "khong-mo-ta.png" in page
    assert not NewsItem.objects.filter(headline="Tin có ảnh thiếu mô tả").exists()


def test_a_gallery_picture_without_alt_text_is_refused(tree, reporter):
    lead = make_image(description="Đoàn viên dọn rác bờ sông", title="dan-rac.png")
    bare = make_image(description="  ", title="thieu-alt.png")
    response = _post(
        _client(reporter), tree, "Tin có bộ ảnh", lead=lead, gallery=[(bare, "Chú thích", "")]
    )
    assert response.status_code == 200
    assert _gallery_messages(response.content.decode()) == [
        "Ảnh “thieu-alt.png” chưa có mô tả thay thế (alt). Hãy mở ảnh trong thư viện ảnh và "
        "mô tả nội dung ảnh trước khi dùng."
    ]
    assert not NewsItem.objects.filter(headline="Tin có bộ ảnh").exists()


def test_pictures_are_saved_and_read_lead_first_with_caption_and_credit(tree, reporter):
    lead = make_image(description="Đoàn viên dọn rác bờ sông", title="dan-rac.png")
    second = make_image(description="Xe chở rác về bãi tập kết", title="xe-rac.png")
    third = make_image(description="Người dân trồng cây ven đường", title="trong-cay.png")
    response = _post(
        _client(reporter),
        tree,
        "Xã ra quân làm sạch môi trường",
        lead=lead,
        gallery=[
            (second, "Xe rác làm việc đến trưa", "Ảnh: Trần Thị Hai"),
            (lead, "Ảnh đại diện lặp lại", ""),
            (third, "", ""),
        ],
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    item = NewsItem.objects.get(headline="Xã ra quân làm sạch môi trường")
    draft = item.get_latest_revision().as_object()
    pictures = item_pictures(draft)
    assert [(p.alt, p.caption, p.credit, p.lead) for p in pictures] == [
        ("Đoàn viên dọn rác bờ sông", "Lễ ra quân sáng 03/12", "Ảnh: Lê Văn Chụp", True),
        ("Xe chở rác về bãi tập kết", "Xe rác làm việc đến trưa", "Ảnh: Trần Thị Hai", False),
        ("Người dân trồng cây ven đường", "", "", False),
    ]


def test_a_description_removed_later_leaves_the_picture_out(tree, reporter):
    lead = make_image(description="Cầu mới bắc qua kênh", title="cau.png")
    response = _post(_client(reporter), tree, "Khánh thành cầu mới", lead=lead)
    assert response.status_code == 302
    lead.description = ""
    lead.save()
    item = NewsItem.objects.get(headline="Khánh thành cầu mới")
    assert item_pictures(item.get_latest_revision().as_object()) == []


def test_revisions_saved_before_pictures_existed_are_the_same_content():
    """An approval given before the gallery field existed stays valid: its revision has no
    ``gallery`` key, the next one an empty gallery."""
    old = {"headline": "Tin", "image": None}
    new = {"headline": "Tin", "image": None, "gallery": "[]", "image_caption": ""}
    assert not content_differs(old, new)
    assert content_differs(old, {**new, "image_caption": "Chú thích mới"})


def test_a_body_picture_with_no_alt_text_anywhere_is_refused(tree, reporter):
    """Inserted in the body and marked "decorative" (empty alt): accepted when the library
    describes it (the portal reads that), refused when nothing describes it."""
    described = make_image(description="Cây cầu mới", title="cau.png")
    bare = make_image(description="", title="khong-mo-ta.png")
    client = _client(reporter)
    for image, headline in ((described, "Tin ảnh có mô tả"), (bare, "Tin ảnh không mô tả")):
        data = {
            "unit": tree["A"].pk,
            "kind": "article",
            "distribution": "province",
            "headline": headline,
            "summary": "Tóm tắt",
            "body": rich_text(
                f'<p>Nội dung</p><embed alt="" embedtype="image" format="left" id="{image.pk}"/>'
            ),
            "image": "",
        }
        data.update(nested_form_data({"gallery": streamfield([])}))
        response = client.post(reverse(ADD), data)
        if image is described:
            assert response.status_code == 302, response.content.decode()[:2000]
            item = NewsItem.objects.get(headline=headline)
            assert f'id="{image.pk}"' in item.body
        else:
            page = response.content.decode()
            assert response.status_code == 200
            assert "chưa có mô tả thay thế (alt)" in page and "khong-mo-ta.png" in page
            assert not NewsItem.objects.filter(headline=headline).exists()
