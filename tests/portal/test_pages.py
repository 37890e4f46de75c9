"""What a reader sees: home, unit, category and item pages, pagination, 404 and 410."""

import pytest
from django.utils import timezone

from newsroom.models import NewsItem
from portal.models import HomePage, HomePageFeaturedItem

from .helpers import make_image, publish, tags, text_of

pytestmark = pytest.mark.django_db

D = NewsItem.Distribution


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response, response.content.decode()


def test_home_shows_featured_latest_and_category_sections(client, tree, categories):
    a, c = tree["A"], tree["C"]
    old = publish(a, "Tin cũ về đê điều", minutes_ago=300, category=categories[0])
    new = publish(c, "Tin mới về phòng dịch", minutes_ago=5, category=categories[1])
    plain = publish(a, "Tin không chuyên mục", minutes_ago=60)
    home = HomePage.objects.get()
    HomePageFeaturedItem.objects.create(page=home, item=old, sort_order=0)

    _, html = get(client, "/")
    assert 'lang="vi"' in html
    # Latest first, the featured item in its own section at the top.
    featured = html.split('id="featured-heading"')[1].split("</section>")[0]
    assert old.headline in featured and new.headline not in featured
    latest = html.split('id="latest-heading"')[1].split("</section>")[0]
    assert latest.index(new.headline) < latest.index(plain.headline) < latest.index(old.headline)
    # One section per category that has items, linking to the category page.
    sections = html.split('id="categories-heading"')[1]
    assert f'href="/chuyen-muc/{categories[0].slug}/"' in sections
    assert f'href="/chuyen-muc/{categories[1].slug}/"' in sections
    assert f'id="category-{categories[2].slug}"' not in sections  # no items: no section
    # Dates read dd/mm/yyyy in Asia/Ho_Chi_Minh.
    local = timezone.localtime(new.first_published_at)
    assert local.strftime("%d/%m/%Y %H:%M") in html
    assert str(local.utcoffset()) == "7:00:00"


def test_featured_items_drop_out_when_withdrawn(client, tree):
    item = publish(tree["A"], "Tin nổi bật sắp bị gỡ")
    HomePageFeaturedItem.objects.create(page=HomePage.objects.get(), item=item)
    assert 'id="featured-heading"' in get(client, "/")[1]
    NewsItem.objects.filter(pk=item.pk).update(live=False, withdrawn_at=timezone.now())
    html = get(client, "/")[1]
    assert 'id="featured-heading"' not in html and item.headline not in html


def test_home_paginates_with_trang(client, tree):
    for n in range(25):
        publish(tree["A"], f"Bản tin số {n:02d}", minutes_ago=n)
    _, first = get(client, "/")
    assert "Bản tin số 00" in first and "Bản tin số 20" not in first
    assert 'rel="next" href="/?trang=2"' in first
    assert '<span aria-current="page">Trang 1</span>' in first
    _, second = get(client, "/?trang=2")
    assert "Bản tin số 20" in second and "Bản tin số 24" in second
    assert "Bản tin số 00" not in second
    assert 'rel="prev" href="/"' in second and 'rel="next"' not in second
    assert 'id="featured-heading"' not in second  # featured and sections: first page only
    for junk in ("/?trang=3", "/?trang=abc", "/?trang=0", "/?trang=-1"):
        _, html = get(client, junk, status=404)
        assert "Không tìm thấy trang" in html


def test_unit_pages_list_their_subtree(client, tree):
    p, x, a, b, c = (tree[k] for k in "PXABC")
    in_a = publish(a, "Tin xã Tân Đồng", minutes_ago=1)
    in_b = publish(b, "Tin xã Tân Bình", minutes_ago=2)
    in_c = publish(c, "Tin xã Minh Hưng", minutes_ago=3)
    district_only = publish(a, "Tin cho trang huyện", distribution=D.DISTRICT, minutes_ago=4)
    loudspeakers_only = publish(a, "Tin chỉ phát loa xã", distribution=D.COMMUNE)

    _, html = get(client, f"/don-vi/{x.code}/")
    assert "<h1>Huyện Đồng Xoài</h1>" in html
    assert in_a.headline in html and in_b.headline in html and in_c.headline not in html
    assert district_only.headline in html and loudspeakers_only.headline not in html
    # The units below are linked, and the breadcrumb leads up to the province.
    assert f'href="/don-vi/{a.code}/"' in html and f'href="/don-vi/{b.code}/"' in html
    assert f'<a href="/don-vi/{p.code}/">{p.name}</a>' in html
    assert f'href="/feeds/rss/?unit={x.code}">Nguồn tin RSS của đơn vị này</a>' in html

    _, html = get(client, f"/don-vi/{a.code}/")
    assert in_a.headline in html and in_b.headline not in html
    assert district_only.headline in html

    _, html = get(client, f"/don-vi/{p.code}/")
    assert all(i.headline in html for i in (in_a, in_b, in_c))
    assert district_only.headline not in html  # province-wide pages: province scope and up

    home = get(client, "/")[1]
    assert district_only.headline not in home and loudspeakers_only.headline not in home
    get(client, district_only.public_path)
    get(client, loudspeakers_only.public_path, status=404)

    _, html = get(client, "/don-vi/")
    assert f'href="/don-vi/{p.code}/"' in html

    _, html = get(client, "/don-vi/00000/", status=404)
    assert "Không có đơn vị nào mang mã này." in html
    get(client, f"/don-vi/{x.code}/?trang=2", status=404)


def test_category_page_lists_its_items(client, tree, categories):
    first, second = categories[0], categories[1]
    mine = publish(tree["A"], "Tin trong chuyên mục", category=first)
    other = publish(tree["A"], "Tin chuyên mục khác", category=second)
    _, html = get(client, f"/chuyen-muc/{first.slug}/")
    assert f"<h1>{first.name}</h1>" in html
    assert mine.headline in html and other.headline not in html
    assert f'href="/feeds/rss/?category={first.slug}">Nguồn tin RSS của chuyên mục này' in html
    # The main navigation marks the current category.
    assert f'href="/chuyen-muc/{first.slug}/" aria-current="page"' in html
    _, html = get(client, "/chuyen-muc/khong-ton-tai/", status=404)
    assert "Không có chuyên mục này." in html


def test_withdrawn_item_is_gone_and_unknown_item_is_not_found(client, tree):
    item = publish(tree["A"], "Tin bị gỡ xuống")
    get(client, item.public_path)
    item.unpublish()  # Wagtail's unpublish: the newsroom marks it withdrawn
    item.refresh_from_db()
    assert item.withdrawn_at is not None and not item.live
    response, html = get(client, item.public_path, status=410)
    assert "Tin này đã bị gỡ" in html
    assert '<meta name="robots" content="noindex">' in html
    assert item.headline not in html
    assert item.headline not in get(client, "/")[1]
    assert item.headline not in get(client, f"/don-vi/{tree['A'].code}/")[1]
    _, html = get(client, "/tin/00000000-0000-0000-0000-000000000000/", status=404)
    assert "Tin bài này không tồn tại hoặc chưa được xuất bản." in html
    draft = NewsItem.objects.create(unit=tree["A"], headline="Bản nháp", live=False)
    get(client, draft.public_path, status=404)


def test_article_page_shows_image_with_alt_text_and_drops_images_without(client, tree, categories):
    image = make_image(description="Cán bộ y tế tiêm vắc xin cho trẻ")
    item = publish(
        tree["A"],
        "Tiêm chủng mở rộng",
        image=image,
        category=categories[0],
        summary="Trẻ em dưới 5 tuổi được tiêm đủ mũi.",
        byline="Nguyễn Văn Phóng",
        body="<p>Trạm y tế xã tổ chức tiêm chủng.</p>",
    )
    _, html = get(client, item.public_path)
    imgs = [t for t in tags(html, "img") if "/images/" in t.get("src", "")]
    assert imgs and imgs[0]["alt"] == "Cán bộ y tế tiêm vắc xin cho trẻ"
    assert "Trạm y tế xã tổ chức tiêm chủng." in html and "Nguyễn Văn Phóng" in html
    # The card on the home page carries the same alt text.
    home_imgs = [t for t in tags(get(client, "/")[1], "img")]
    assert home_imgs and all(t["alt"] for t in home_imgs)

    bare = publish(tree["A"], "Ảnh thiếu mô tả", image=make_image(description=""))
    _, html = get(client, bare.public_path)
    assert not [t for t in tags(html, "img") if "/images/" in t.get("src", "")]
    assert 'property="og:image"' not in html
    for page in ("/", f"/don-vi/{tree['A'].code}/"):
        assert all(t.get("alt") for t in tags(get(client, page)[1], "img"))


def test_pages_speak_vietnamese_and_have_landmarks(client, tree, categories):
    item = publish(tree["A"], "Tin kiểm tra giao diện", category=categories[0])
    for url in (
        "/",
        f"/don-vi/{tree['A'].code}/",
        f"/chuyen-muc/{categories[0].slug}/",
        item.public_path,
        "/don-vi/",
    ):
        _, html = get(client, url)
        assert '<html lang="vi">' in html
        assert '<a class="skip" href="#main">Chuyển đến nội dung chính</a>' in html
        assert '<main id="main"' in html
        assert 'aria-label="Điều hướng chính"' in html
        assert '<label for="q">Tìm kiếm</label>' in html
        assert len([t for t in tags(html, "h1")]) == 1
        assert "Trang chủ" in text_of(html)
    home = get(client, "/")[1]
    assert "Tin mới nhất" in home and "Theo chuyên mục" in home


def test_search_page_keeps_the_portal_layout(client, db):
    _, html = get(client, "/search/?q=tiem")
    assert 'href="#main"' in html and 'aria-label="Điều hướng chính"' in html


def test_editor_features_an_item_from_the_page_editor(client, django_user_model, tree):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    item = publish(tree["A"], "Tin được biên tập viên chọn", minutes_ago=600)
    for n in range(3):
        publish(tree["B"], f"Tin thường {n}")
    admin = django_user_model.objects.create_superuser("bientap", "b@example.org", "x")
    client.force_login(admin)
    home = HomePage.objects.get()
    url = f"/admin/pages/{home.pk}/edit/"
    html = get(client, url)[1]
    assert "featured_items-TOTAL_FORMS" in html and "Tin nổi bật" in html
    data = nested_form_data(
        {
            "title": home.title,
            "slug": home.slug,
            "featured_items": inline_formset([{"item": item.pk}]),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    featured = get(client, "/")[1].split('id="featured-heading"')[1].split("</section>")[0]
    assert item.headline in featured


def test_item_published_and_corrected_through_wagtail_revisions(client, tree):
    """The real publishing path (revisions, the newsroom's version bookkeeping)."""
    item = NewsItem(unit=tree["A"], headline="Thông báo lịch cắt điện", live=False)
    item.save()
    item.save_revision().publish()
    item.refresh_from_db()
    assert item.live and item.version == 1
    _, html = get(client, "/")
    assert "Thông báo lịch cắt điện" in html
    item.headline = "Thông báo lịch cắt điện (đính chính)"
    item.save_revision().publish()
    _, html = get(client, item.public_path)
    assert '<h1 id="item-headline">Thông báo lịch cắt điện (đính chính)</h1>' in html
    assert "Cập nhật" in html  # a correction shows when it was updated


def test_unknown_portal_paths_answer_a_vietnamese_404(client, db):
    _, html = get(client, "/khong-co-trang-nay/", status=404)
    assert "Không tìm thấy trang" in html and '<html lang="vi">' in html
