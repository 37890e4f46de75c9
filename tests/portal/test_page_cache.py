"""Published pages are answered from the page cache; publication, correction and withdrawal
(through the newsroom's services and through the admin's review and withdraw screens) retire
the cached pages at once, so a reader sees the change on the next request."""

import pytest
from django.test import Client
from django.urls import reverse

from newsroom.models import NewsItem
from newsroom.roles import Role
from newsroom.services import item_create, item_review, item_submit, item_update, item_withdraw
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.NGUON_PORTAL_PAGE_CACHE = 300
    from django.core.cache import cache

    from portal.cache import portal_cache_invalidate

    cache.clear()
    portal_cache_invalidate()


@pytest.fixture
def people(tree):
    return {
        "reporter": make_user("rep", unit=tree["A"], role=Role.REPORTER),
        "approvers": [
            make_user("appr_a", unit=tree["A"], role=Role.APPROVER),
            make_user("appr_x", unit=tree["X"], role=Role.APPROVER),
            make_user("appr_p", unit=tree["P"], role=Role.APPROVER),
        ],
    }


def through_the_chain(people, item, callbacks):
    with callbacks(execute=True):
        item_submit(user=people["reporter"], item=item)
    for approver in people["approvers"]:
        with callbacks(execute=True):
            item = item_review(
                user=approver, item=NewsItem.objects.get(pk=item.pk), action="approve"
            )
    item.refresh_from_db()
    assert item.live
    return item


def test_a_published_page_is_served_from_the_cache_until_publication_correction_or_withdrawal(
    client, tree, people, django_capture_on_commit_callbacks
):
    reporter = people["reporter"]
    first = client.get("/")
    assert first["X-Portal-Cache"] == "miss"
    again = client.get("/")
    assert again["X-Portal-Cache"] == "hit"
    assert again.content == first.content
    # A conditional GET is answered from the cache too.
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    # Publication: the next reader sees the new item on the home page.
    item = item_create(
        user=reporter,
        unit=tree["A"],
        headline="Tin mới được duyệt",
        summary="Tóm tắt",
        distribution=NewsItem.Distribution.PROVINCE,
    )
    item = through_the_chain(people, item, django_capture_on_commit_callbacks)
    home = client.get("/")
    assert home["X-Portal-Cache"] == "miss"
    assert "Tin mới được duyệt" in home.content.decode()
    page = client.get(item.public_path)
    assert client.get(item.public_path)["X-Portal-Cache"] == "hit"
    assert "Tin mới được duyệt" in page.content.decode()

    # Correction: a new approved version replaces the cached page.
    with django_capture_on_commit_callbacks(execute=True):
        item_update(user=reporter, item=item, headline="Tin mới được duyệt (đính chính)")
    item = through_the_chain(
        people, NewsItem.objects.get(pk=item.pk), django_capture_on_commit_callbacks
    )
    corrected = client.get(item.public_path)
    assert corrected["X-Portal-Cache"] == "miss"
    assert "(đính chính)" in corrected.content.decode()
    assert "(đính chính)" in client.get("/").content.decode()

    # Withdrawal: the item page is gone (410) and the home page no longer lists it.
    with django_capture_on_commit_callbacks(execute=True):
        item_withdraw(user=people["approvers"][-1], item=item, reason="Sai sự thật")
    assert client.get(item.public_path).status_code == 410
    assert "Tin mới được duyệt" not in client.get("/").content.decode()


def test_with_the_cache_off_nothing_is_cached(client, tree, settings):
    settings.NGUON_PORTAL_PAGE_CACHE = 0
    client.get("/")
    assert "X-Portal-Cache" not in client.get("/")


def approve_in_admin(user, item):
    """The approver's review screen, as the button posts it (the editor's path)."""
    client = Client()
    client.force_login(user)
    url = reverse("newsroom_item_review", args=[item.pk])
    context = client.get(url).context
    response = client.post(
        url,
        {
            "action": "approve",
            "comment": "",
            "revision_id": context["revision"].pk,
            "task_state_id": context["task_state"].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]


def publish_in_admin(people, item, callbacks):
    """Submitted by the reporter; the commune and district approve; the province approves
    on its review screen, which publishes."""
    with callbacks(execute=True):
        item_submit(user=people["reporter"], item=item)
    for approver in people["approvers"][:-1]:
        with callbacks(execute=True):
            item_review(user=approver, item=NewsItem.objects.get(pk=item.pk), action="approve")
    with callbacks(execute=True):
        approve_in_admin(people["approvers"][-1], NewsItem.objects.get(pk=item.pk))
    item = NewsItem.objects.get(pk=item.pk)
    assert item.live
    return item


def test_every_cached_listing_shows_what_the_admin_published_corrected_or_withdrew_at_once(
    client, tree, people, categories, django_capture_on_commit_callbacks
):
    category = categories[0]
    listings = [
        "/",
        f"/don-vi/{tree['P'].code}/",
        f"/don-vi/{tree['A'].code}/",
        f"/chuyen-muc/{category.slug}/",
    ]
    for path in listings:
        client.get(path)
        assert client.get(path)["X-Portal-Cache"] == "hit", path

    item = item_create(
        user=people["reporter"],
        unit=tree["A"],
        headline="Xã Tân Đồng khai giảng lớp xóa mù chữ",
        category=category,
        distribution=NewsItem.Distribution.PROVINCE,
    )
    item = publish_in_admin(people, item, django_capture_on_commit_callbacks)
    for path in listings:
        page = client.get(path)
        assert page["X-Portal-Cache"] == "miss", path
        assert "Xã Tân Đồng khai giảng lớp xóa mù chữ" in page.content.decode(), path
        assert client.get(path)["X-Portal-Cache"] == "hit", path
    client.get(item.public_path)
    assert client.get(item.public_path)["X-Portal-Cache"] == "hit"

    # A correction, approved on the same screen.
    with django_capture_on_commit_callbacks(execute=True):
        item_update(user=people["reporter"], item=item, headline="Xã Tân Đồng mở lớp xóa mù chữ")
    item = publish_in_admin(people, item, django_capture_on_commit_callbacks)
    for path in [*listings, item.public_path]:
        text = client.get(path).content.decode()
        assert "Xã Tân Đồng mở lớp xóa mù chữ" in text, path
        assert "khai giảng" not in text, path

    # Withdrawn from the admin's withdraw screen.
    editor = Client()
    editor.force_login(people["approvers"][-1])
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            reverse("newsroom_item_withdraw", args=[item.pk]), {"reason": "Sai địa điểm"}
        )
    assert response.status_code == 302
    assert client.get(item.public_path).status_code == 410
    for path in listings:
        assert "xóa mù chữ" not in client.get(path).content.decode(), path


def test_a_cached_answer_costs_no_query_and_keeps_the_headers_of_the_first(
    client, tree, django_assert_num_queries
):
    first = client.get(f"/don-vi/{tree['A'].code}/")
    assert first["X-Portal-Cache"] == "miss"
    with django_assert_num_queries(0):
        again = client.get(f"/don-vi/{tree['A'].code}/")
    assert again["X-Portal-Cache"] == "hit" and again.content == first.content
    for header in ("Content-Type", "Cache-Control", "ETag", "X-Frame-Options", "Vary"):
        assert again[header] == first[header], header
    assert not again.cookies


def test_only_the_page_number_makes_a_separate_cached_page(client, tree):
    client.get("/?trang=1")
    assert client.get("/?trang=1")["X-Portal-Cache"] == "hit"
    client.get("/?utm_source=zalo")
    assert "X-Portal-Cache" not in client.get("/?utm_source=zalo")  # rendered, not stored


def test_a_password_on_the_portal_retires_its_cached_pages(client, tree):
    from wagtail.models import PageViewRestriction

    from portal.models import HomePage

    client.get("/")
    assert client.get("/")["X-Portal-Cache"] == "hit"
    PageViewRestriction.objects.create(
        page=HomePage.objects.get(),
        restriction_type=PageViewRestriction.PASSWORD,
        password="mat-khau",
    )
    answer = client.get("/")
    assert "X-Portal-Cache" not in answer
    assert 'name="password"' in answer.content.decode()
    assert "X-Portal-Cache" not in client.get("/")
