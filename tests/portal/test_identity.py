"""The publisher's identity (Decree 42/2022/NĐ-CP) set by the province's administrator:
header, footer, favicon, Open Graph, schema.org publisher, feeds' channel, /search/."""

import json
import re

import pytest
from wagtail.models import Site

from core.identity import SiteIdentity

from .helpers import make_image, publish

pytestmark = pytest.mark.django_db

IDENTITY = {
    "province_name": "Tỉnh Thử Nghiệm",
    "portal_name": "Cổng thông tin điện tử tỉnh Thử Nghiệm",
    "governing_agency": "Ủy ban nhân dân tỉnh Thử Nghiệm",
    "person_responsible": "Bà Trần Thị Trách Nhiệm",
    "address": "Số 1 đường Hành Chính",
    "phone": "0271 3000 111",
    "email": "ctt@thunghiem.example.invalid",
    "licence": "Giấy phép số 12/GP-TTĐT ngày 01/02/2024",
}


@pytest.fixture
def identity(db):
    emblem = make_image(
        description="Biểu trưng tỉnh Thử Nghiệm", title="bieu-trung.png", size=(400, 400)
    )
    setting = SiteIdentity.for_site(Site.objects.get(is_default_site=True))
    for name, value in IDENTITY.items():
        setattr(setting, name, value)
    setting.emblem = emblem
    setting.save()
    return setting


def test_header_and_footer_show_the_province_and_the_publisher_on_every_page(
    client, tree, identity
):
    item = publish(tree["A"], "Tin có nhà xuất bản")
    for url in ["/", "/don-vi/", f"/don-vi/{tree['A'].code}/", item.public_path, "/search/?q=tin"]:
        html = client.get(url).content.decode()
        header = re.search(r"<header class=\"site-header\">.*?</header>", html, re.S).group(0)
        footer = re.search(r"<footer.*?</footer>", html, re.S).group(0)
        assert "Cổng thông tin điện tử tỉnh Thử Nghiệm" in header, url
        assert "Tỉnh Thử Nghiệm" in header, url
        assert 'class="brand__emblem"' in header, url
        assert "Chuyên mục" in header, url  # the same menu on /search/ as elsewhere
        for label, value in [
            ("Cơ quan chủ quản", IDENTITY["governing_agency"]),
            ("Người chịu trách nhiệm", IDENTITY["person_responsible"]),
            ("Địa chỉ", IDENTITY["address"]),
            ("Điện thoại", IDENTITY["phone"]),
            ("Thư điện tử", IDENTITY["email"]),
            ("Giấy phép", IDENTITY["licence"]),
        ]:
            assert label in footer and value in footer, (url, label)
        assert re.search(
            r'<link rel="icon" type="image/png" sizes="32x32" href="[^"]+fill-32x32', html
        ), url


def test_favicon_and_open_graph_image_are_renditions_of_the_emblem(client, tree, identity):
    html = client.get("/").content.decode()
    icon = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', html).group(1)
    assert client.get(icon).status_code in (200, 404)  # media is served by the web server
    og = re.search(r'<meta property="og:image" content="([^"]+)"', html).group(1)
    assert og.startswith("http://testserver/") and "bieu-trung" in og
    # An item without a picture of its own is shared with the emblem.
    item = publish(tree["A"], "Tin không ảnh")
    page = client.get(item.public_path).content.decode()
    assert "bieu-trung" in re.search(r'<meta property="og:image" content="([^"]+)"', page).group(1)


def test_schema_org_publisher_is_the_governing_agency_with_the_emblem_as_logo(
    client, tree, identity
):
    item = publish(tree["A"], "Tin có JSON-LD")
    html = client.get(item.public_path).content.decode()
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    )
    publisher = data["publisher"]
    assert publisher["name"] == IDENTITY["governing_agency"]
    assert (
        publisher["logo"]["url"].startswith("http://testserver/")
        and "bieu-trung" in publisher["logo"]["url"]
    )
    assert publisher["contactPoint"]["telephone"] == IDENTITY["phone"]
    assert publisher["contactPoint"]["email"] == IDENTITY["email"]


def test_feeds_carry_the_publisher_in_their_channel(client, tree, identity):
    publish(tree["A"], "Tin trong nguồn cấp")
    rss = client.get("/feeds/rss/").content.decode()
    assert "<title>Cổng thông tin điện tử tỉnh Thử Nghiệm</title>" in rss
    assert f"<copyright>{IDENTITY['licence']}</copyright>" in rss
    assert (
        f"<managingEditor>{IDENTITY['email']} ({IDENTITY['person_responsible']})</managingEditor>"
        in rss
    )
    assert re.search(r"<image><url>http://testserver/[^<]*bieu-trung", rss)
    atom = client.get("/feeds/atom/").content.decode()
    assert (
        f"<author><name>{IDENTITY['governing_agency']}</name><email>{IDENTITY['email']}</email></author>"
        in atom
    )
    assert f"<rights>{IDENTITY['licence']}</rights>" in atom
    assert re.search(r"<logo>http://testserver/[^<]*bieu-trung", atom)


def test_changing_the_identity_shows_at_once(client, tree, identity):
    assert "Tỉnh Thử Nghiệm" in client.get("/").content.decode()
    identity.province_name = "Tỉnh Đổi Tên"
    identity.save()
    assert "Tỉnh Đổi Tên" in client.get("/").content.decode()


def test_the_demo_fills_the_identity_for_binh_phuoc_once(db):
    from wagtail.images import get_image_model

    from cms.management.commands.load_demo import demo_identity

    demo_identity()
    demo_identity()
    setting = SiteIdentity.objects.get()
    assert setting.province_name == "Tỉnh Bình Phước"
    assert setting.governing_agency == "Ủy ban nhân dân tỉnh Bình Phước"
    assert all(
        [setting.person_responsible, setting.address, setting.phone, setting.email, setting.licence]
    )
    assert setting.emblem is not None and setting.emblem.description
    assert get_image_model().objects.count() == 1
