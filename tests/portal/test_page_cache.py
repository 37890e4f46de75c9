"""Published pages are answered from the page cache; publication, correction and withdrawal
through the newsroom's services retire the cached pages at once."""

import pytest

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
