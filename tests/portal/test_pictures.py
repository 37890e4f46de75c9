"""Pictures on the portal: responsive <picture>s with WebP and a fallback, the item page's
figures with caption and credit, the home page's lead story, Open Graph and JSON-LD."""

import json
import re

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from wagtail.images import get_image_model

from newsroom.events import announce_item_published
from portal.models import HomePage, HomePageFeaturedItem
from portal.pictures import rendition_specs

from .helpers import make_image, publish, tags, text_of

pytestmark = pytest.mark.django_db


def gallery(*entries):
    """A gallery value: (image, caption, credit) triples."""
    return json.dumps(
        [
            {"type": "picture", "value": {"image": image.pk, "caption": caption, "credit": credit}}
            for image, caption, credit in entries
        ]
    )


def stored(url: str) -> bytes:
    """The bytes behind a media URL (Django does not serve media in the tests)."""
    assert url.startswith(settings.MEDIA_URL), url
    with default_storage.open(url[len(settings.MEDIA_URL) :]) as fh:
        return fh.read()


def srcset_widths(srcset: str) -> list[int]:
    return [int(part.split()[1][:-1]) for part in srcset.split(", ")]


def figures(html: str) -> list[str]:
    return re.findall(r'<figure class="figure[^"]*">.*?</figure>', html, re.S)


def jsonld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def og(html: str) -> dict:
    return {t["property"]: t["content"] for t in tags(html, "meta") if "property" in t}


@pytest.fixture
def pictured(tree, categories):
    """An article with a lead picture (caption, credit) and a gallery of two."""
    lead = make_image(description="Đoàn viên dọn rác bờ sông", title="le.jpg", size=(2000, 1250))
    second = make_image(description="Xe chở rác về bãi tập kết", title="xe.png", size=(1500, 1000))
    third = make_image(
        description="Người dân trồng cây ven đường", title="cay.jpg", size=(800, 600)
    )
    item = publish(
        tree["A"],
        "Xã ra quân làm sạch môi trường",
        minutes_ago=30,
        category=categories[0],
        summary="Hơn 300 đoàn viên tham gia.",
        body="<p>Phong trào được người dân hưởng ứng.</p>",
        image=lead,
        image_caption="Lễ ra quân sáng 03/12",
        image_credit="Ảnh: Lê Văn Chụp",
        gallery=gallery((second, "Xe rác làm việc đến trưa", "Ảnh: Trần Thị Hai"), (third, "", "")),
    )
    return item, (lead, second, third)


def test_item_page_shows_the_lead_figure_and_the_gallery_with_captions_and_credits(
    client, pictured
):
    item, (lead, second, third) = pictured
    html = client.get(item.public_path).content.decode()
    article = html.split('<article class="item')[1]
    found = figures(article)
    assert len(found) == 3
    # The lead picture right under the headline, before the summary and the body.
    assert article.index("</header>") < article.index(found[0]) < article.index('class="summary"')
    assert article.index('class="body"') < article.index(found[1])
    lead_img, second_img, third_img = (tags(f, "img")[0] for f in found)
    assert lead_img["alt"] == "Đoàn viên dọn rác bờ sông"
    assert text_of(found[0]).strip() == "Lễ ra quân sáng 03/12 Ảnh: Lê Văn Chụp"
    assert second_img["alt"] == "Xe chở rác về bãi tập kết"
    assert text_of(found[1]).strip() == "Xe rác làm việc đến trưa Ảnh: Trần Thị Hai"
    assert third_img["alt"] == "Người dân trồng cây ven đường" and "<figcaption" not in found[2]
    # The gallery is a section with its own heading.
    assert '<h2 id="gallery-heading">Hình ảnh</h2>' in article
    # The lead picture loads at once; the gallery's when scrolled to.
    assert "loading" not in lead_img and lead_img["fetchpriority"] == "high"
    assert second_img["loading"] == "lazy" and second_img["decoding"] == "async"


def test_every_figure_has_a_webp_source_and_a_fallback_with_srcset_and_size(client, pictured):
    item, _images = pictured
    html = client.get(item.public_path).content.decode()
    lead_figure, png_figure, small_figure = figures(html)

    source = tags(lead_figure, "source")[0]
    img = tags(lead_figure, "img")[0]
    assert source["type"] == "image/webp" and source["sizes"] == img["sizes"]
    assert srcset_widths(source["srcset"]) == [640, 960, 1280]
    assert srcset_widths(img["srcset"]) == [640, 960, 1280]
    assert (img["width"], img["height"]) == ("960", "600")  # no layout shift
    # The files are what they claim: WebP for the source, JPEG for a JPEG original.
    webp = stored(source["srcset"].split(", ")[-1].split()[0])
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    assert stored(img["src"])[:3] == b"\xff\xd8\xff"
    # A PNG original falls back to PNG.
    png = tags(png_figure, "img")[0]
    assert stored(png["src"])[:8] == b"\x89PNG\r\n\x1a\n"
    # A picture narrower than the ladder is not upscaled: its real width, once.
    small = tags(small_figure, "img")[0]
    assert srcset_widths(small["srcset"]) == [640, 800]
    assert srcset_widths(tags(small_figure, "source")[0]["srcset"]) == [640, 800]


def test_a_picture_whose_alt_text_was_removed_is_not_shown(client, pictured, tree):
    item, (lead, second, _third) = pictured
    second.description = ""
    second.save()
    html = client.get(item.public_path).content.decode()
    assert len(figures(html)) == 2
    assert "Xe rác làm việc đến trưa" not in html
    assert len(jsonld(html)["image"]) == 2
    # Without alt text on the lead picture, no lead figure, no card picture, no og:image of it.
    lead.description = "   "
    lead.save()
    html = client.get(item.public_path).content.decode()
    assert "figure--lead" not in html and "Lễ ra quân sáng 03/12" not in html
    assert [i["description"] for i in jsonld(html)["image"]] == ["Người dân trồng cây ven đường"]
    home = client.get("/").content.decode()
    assert "lead-story" not in home and not tags(home, "picture")


def test_home_page_lead_story_is_the_featured_item_with_a_picture(client, tree, pictured):
    item, _images = pictured
    newer = publish(tree["B"], "Tin mới chưa có ảnh", minutes_ago=5)
    pictured_newest = publish(
        tree["C"], "Tin mới có ảnh", minutes_ago=10, image=make_image(description="Cầu mới")
    )
    html = client.get("/").content.decode()
    # No featured item: the newest item with a picture leads, shown once.
    lead = html.split('<article class="lead-story"')[1].split("</article>")[0]
    assert pictured_newest.headline in lead and html.count(pictured_newest.headline) == 1
    assert html.index("lead-story") < html.index('id="latest-heading"')
    assert newer.headline in html.split('id="latest-heading"')[1]

    # An editor features the article: it leads, its picture large and loaded at once.
    HomePageFeaturedItem.objects.create(page=HomePage.objects.get(), item=item, sort_order=0)
    html = client.get("/").content.decode()
    lead = html.split('<article class="lead-story"')[1].split("</article>")[0]
    assert '<h2 id="lead-story-heading"' in lead and item.headline in lead
    img = tags(lead, "img")[0]
    assert img["alt"] == "Đoàn viên dọn rác bờ sông" and "loading" not in img
    assert srcset_widths(img["srcset"]) == [320, 640, 960, 1280]
    assert tags(lead, "source")[0]["type"] == "image/webp"
    assert (int(img["width"]) * 9) == (int(img["height"]) * 16)  # the 16:9 crop
    # The other stories keep their thumbnails, lazily loaded, with their alt text.
    latest = html.split('id="latest-heading"')[1].split("</section>")[0]
    thumb = tags(latest, "img")[0]
    assert thumb["alt"] == "Cầu mới" and thumb["loading"] == "lazy"
    assert tags(latest, "source")[0]["type"] == "image/webp"
    assert item.headline not in latest  # the lead story is not listed again


def test_a_featured_item_listed_again_has_a_decorative_thumbnail_the_second_time(client, tree):
    first = publish(tree["A"], "Tin dẫn", image=make_image(description="Ảnh tin dẫn"))
    second = publish(tree["A"], "Tin nổi bật thứ hai", image=make_image(description="Ảnh hai"))
    home = HomePage.objects.get()
    HomePageFeaturedItem.objects.create(page=home, item=first, sort_order=0)
    HomePageFeaturedItem.objects.create(page=home, item=second, sort_order=1)
    html = client.get("/").content.decode()
    featured = html.split('id="featured-heading"')[1].split("</section>")[0]
    latest = html.split('id="latest-heading"')[1].split("</section>")[0]
    assert tags(featured, "img")[0]["alt"] == "Ảnh hai"
    assert tags(latest, "img")[0]["alt"] == ""  # described once, above


def test_category_and_unit_listings_show_thumbnails(client, tree, pictured, categories):
    item, _images = pictured
    for url in (f"/chuyen-muc/{categories[0].slug}/", f"/don-vi/{tree['A'].code}/"):
        html = client.get(url).content.decode()
        card = html.split('<article class="card card--image">')[1].split("</article>")[0]
        img = tags(card, "img")[0]
        assert img["alt"] == "Đoàn viên dọn rác bờ sông" and img["loading"] == "lazy"
        assert srcset_widths(img["srcset"]) == [320, 640, 960, 1280]
        assert img["sizes"] == "(min-width: 40rem) 12rem, 32vw"


def test_open_graph_and_news_article_name_the_pictures(client, pictured):
    item, (lead, second, third) = pictured
    html = client.get(item.public_path).content.decode()
    meta = og(html)
    assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
    assert meta["og:image:alt"] == "Đoàn viên dọn rác bờ sông"
    assert meta["og:image"].startswith("http://testserver/")
    assert stored(meta["og:image"].removeprefix("http://testserver"))[:3] == b"\xff\xd8\xff"
    images = jsonld(html)["image"]
    assert [i["@type"] for i in images] == ["ImageObject"] * 3
    assert [(i["width"], i["height"]) for i in images] == [(1280, 800), (1280, 853), (800, 600)]
    assert images[0]["caption"] == "Lễ ra quân sáng 03/12"
    assert images[0]["creditText"] == "Ảnh: Lê Văn Chụp"
    assert images[1]["caption"] == "Xe rác làm việc đến trưa"
    assert images[1]["creditText"] == "Ảnh: Trần Thị Hai"
    assert "caption" not in images[2] and "creditText" not in images[2]
    assert all(i["url"].startswith("http://testserver/") for i in images)


def test_renditions_are_made_once_and_then_read(client, pictured):
    """The second view of a page makes no rendition: it reads the ones the first made."""
    item, _images = pictured
    Rendition = get_image_model().get_rendition_model()
    client.get(item.public_path)
    client.get("/")
    made = Rendition.objects.count()
    client.get(item.public_path)
    client.get("/")
    assert Rendition.objects.count() == made


def test_publishing_makes_the_renditions_before_the_first_reader(
    client, pictured, django_capture_on_commit_callbacks
):
    """The newsroom's ``item_published`` queues the portal's rendition job (run in-process
    here): the item's first readers find every picture ready and nothing is made then."""
    item, _images = pictured
    # The portal's renditions (the feeds' and boards' are made by their own job).
    portal = (
        get_image_model()
        .get_rendition_model()
        .objects.filter(filter_spec__in=rendition_specs(cards=True, figures=True, share=True))
    )
    assert portal.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        announce_item_published(item, first=True)
    # Lead: 4 card crops, 3 figure widths (x WebP and fallback) and the sharing crop; the
    # gallery's two: 3 figure widths x 2.
    assert portal.count() == 15 + 6 + 6
    Rendition = get_image_model().get_rendition_model()
    before = set(Rendition.objects.values_list("image_id", "filter_spec"))
    for url in (item.public_path, "/", f"/don-vi/{item.unit.code}/"):
        assert client.get(url).status_code == 200
    assert set(Rendition.objects.values_list("image_id", "filter_spec")) - before == set()
