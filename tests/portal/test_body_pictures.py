"""Pictures a reporter puts in the body (Wagtail's rich-text image embed): on the item page
the portal's responsive <picture> in a <figure> aligned as the editor chose; in the feeds a
plain <img> with an absolute URL."""

import feedparser
import pytest
from wagtail.images import get_image_model

from newsroom.events import announce_item_published

from .helpers import make_image, publish, tags

pytestmark = pytest.mark.django_db


def embed(image, *, fmt="fullwidth", alt=None) -> str:
    """The body's stored form of an inserted picture (what Draftail saves)."""
    alt_attr = f' alt="{alt}"' if alt is not None else ""
    return f'<embed{alt_attr} embedtype="image" format="{fmt}" id="{image.pk}"/>'


def body_figures(html: str) -> list[str]:
    body = html.split('<div class="body">')[1].split("</div>")[0]
    return [part.split("</figure>")[0] for part in body.split('<figure class="figure ')[1:]]


def srcset_widths(srcset: str) -> list[int]:
    return [int(part.split()[1][:-1]) for part in srcset.split(", ")]


@pytest.fixture
def bodied(tree):
    wide = make_image(description="Cầu mới bắc qua sông", title="cau.jpg", size=(2000, 1250))
    side = make_image(description="Trưởng thôn phát biểu", title="thon.png", size=(1500, 1000))
    item = publish(
        tree["A"],
        "Khánh thành cầu dân sinh",
        body=(
            "<p>Sáng nay cây cầu được đưa vào sử dụng.</p>"
            + embed(wide, alt="Cây cầu nhìn từ bờ bắc")
            + "<p>Người dân phấn khởi.</p>"
            + embed(side, fmt="left", alt="")
        ),
    )
    return item, wide, side


def test_body_pictures_are_responsive_figures_with_webp_and_alt(client, bodied):
    item, wide, side = bodied
    html = client.get(item.public_path).content.decode()
    first, second = body_figures(html)
    assert first.startswith('figure--body figure--full"') and "<picture>" in first
    assert second.startswith('figure--body figure--left"')
    source, img = tags(first, "source")[0], tags(first, "img")[0]
    assert source["type"] == "image/webp"
    assert srcset_widths(source["srcset"]) == [640, 960, 1280]
    assert srcset_widths(img["srcset"]) == [640, 960, 1280]
    assert (img["width"], img["height"]) == ("960", "600")
    assert img["loading"] == "lazy" and img["sizes"] == source["sizes"]
    # The editor's alt text; an empty one falls back to the library's description.
    assert img["alt"] == "Cây cầu nhìn từ bờ bắc"
    side_img = tags(second, "img")[0]
    assert side_img["alt"] == "Trưởng thôn phát biểu"
    assert side_img["src"].endswith(".png")  # a PNG original falls back to PNG
    # A floated picture asks for less than the full width on wide screens only.
    assert "45vw" in side_img["sizes"] and side_img["sizes"].endswith("calc(100vw - 2rem)")
    # Nothing of Wagtail's single fixed rendition is left.
    assert "richtext-image" not in html and "<embed" not in html


def test_a_body_picture_without_any_alt_text_is_left_out(client, tree):
    undescribed = make_image(description="", title="trong.jpg")
    gone = make_image(description="Ảnh đã xoá", title="xoa.jpg")
    gone_id = gone.pk
    gone.delete()
    item = publish(
        tree["A"],
        "Tin có ảnh thiếu mô tả",
        body="<p>Đoạn một.</p>"
        + embed(undescribed, alt="")
        + f'<embed alt="x" embedtype="image" format="right" id="{gone_id}"/>'
        + "<p>Đoạn hai.</p>",
    )
    html = client.get(item.public_path).content.decode()
    body = html.split('<div class="body">')[1].split("</div>")[0]
    assert "Đoạn một." in body and "Đoạn hai." in body
    assert "<img" not in body and "<figure" not in body


def test_feeds_keep_a_plain_absolute_img(client, bodied):
    item, _wide, _side = bodied
    feed = feedparser.parse(client.get("/feeds/rss/").content)
    entry = next(e for e in feed.entries if e.title == item.headline)
    content = entry.content[0].value
    imgs = tags(content, "img")
    assert len(imgs) == 2
    assert all(img["src"].startswith("http") for img in imgs), imgs
    assert imgs[0]["alt"] == "Cây cầu nhìn từ bờ bắc"
    assert "<picture" not in content and "<source" not in content


def test_publishing_makes_the_body_pictures_renditions_before_the_first_reader(
    client, bodied, django_capture_on_commit_callbacks
):
    item, wide, side = bodied
    Rendition = get_image_model().get_rendition_model()
    body_renditions = Rendition.objects.filter(image__in=[wide, side])
    assert body_renditions.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        announce_item_published(item, first=True)
    # Each: 3 figure widths x (WebP, fallback).
    assert body_renditions.count() == 12
    before = set(Rendition.objects.values_list("image_id", "filter_spec"))
    assert client.get(item.public_path).status_code == 200
    assert set(Rendition.objects.values_list("image_id", "filter_spec")) - before == set()
