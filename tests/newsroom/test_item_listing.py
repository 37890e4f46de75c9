"""The admin item listing: scope, order, paging, filters and columns.

The listing pages through ``views.NarrowPagePaginator`` (the page's keys from a narrow
query, then the full rows for those keys); these tests pin what the user sees to what the
plain ``queryset[bottom:top]`` would show."""

from datetime import timedelta

import pytest
from django.core.paginator import UnorderedObjectListWarning
from django.test import Client
from django.utils import timezone
from wagtail.admin.paginator import WagtailPaginator

from newsroom.models import NewsItem, Role
from newsroom.selectors import item_list_for_user
from newsroom.services import item_create, item_submit
from newsroom.views import NarrowPagePaginator
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LISTING = "/admin/snippets/newsroom/newsitem/"


@pytest.fixture
def items(tree):
    """45 items spread over the test province (A, B, C and district X) and 5 in province
    Q, each a minute older than the previous one; every third is audio."""
    now = timezone.now()
    units = [tree["A"], tree["B"], tree["C"], tree["X"], tree["A"], tree["D"]]
    NewsItem.objects.bulk_create(
        [
            NewsItem(
                unit=units[i % len(units)],
                headline=f"Tin {i:03d} " + "zyxwvutsrqponmlkjihgfedcba"[i % 26],
                kind=NewsItem.Kind.AUDIO if i % 3 == 0 else NewsItem.Kind.ARTICLE,
                created_at=now - timedelta(minutes=i),
            )
            for i in range(54)
        ]
    )
    return tree


def page_ids(client, query=""):
    response = client.get(LISTING + query)
    assert response.status_code == 200
    return [obj.pk for obj in response.context["page_obj"].object_list], response


def province_client(tree):
    client = Client()
    client.force_login(make_user("appr_p", unit=tree["P"], role=Role.APPROVER, is_staff=True))
    return client


def test_a_province_approver_pages_through_their_subtree_newest_first(items):
    client = province_client(items)
    subtree = list(
        NewsItem.objects.filter(unit__path__startswith=items["P"].path)
        .order_by("-created_at")
        .values_list("pk", flat=True)
    )
    assert len(subtree) == 45
    first, response = page_ids(client)
    second, _ = page_ids(client, "?p=2")
    third, _ = page_ids(client, "?p=3")
    assert first + second + third == subtree
    assert response.context["page_obj"].paginator.count == 45
    assert "45" in response.content.decode()
    assert not set(subtree) & set(
        NewsItem.objects.filter(unit=items["D"]).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    "query",
    ["?ordering=headline", "?ordering=-headline&p=2", "?kind=audio", "?ordering=unit&p=2"],
)
def test_ordering_and_filters_match_plain_paging(items, query):
    """Whatever the ordering or filter, the page holds the rows plain slicing would."""
    client = province_client(items)
    ids, response = page_ids(client, query)
    assert not response.context["page_obj"].object_list.query.is_sliced  # the narrow path
    assert response.context["page_obj"].paginator.object_list.query.order_by[-1] == "-pk"
    view_qs = response.context["page_obj"].paginator.object_list
    page = WagtailPaginator(view_qs, 20).get_page(response.context["page_obj"].number)
    assert ids == [obj.pk for obj in page.object_list]
    assert ids


def test_a_commune_approver_sees_only_their_commune(items):
    client = Client()
    client.force_login(make_user("appr_c", unit=items["C"], role=Role.APPROVER, is_staff=True))
    ids, _ = page_ids(client)
    assert ids == list(
        NewsItem.objects.filter(unit=items["C"])
        .order_by("-created_at")
        .values_list("pk", flat=True)
    )


def test_staff_without_a_membership_sees_nothing(items):
    client = Client()
    client.force_login(make_user("nobody", is_staff=True))
    assert client.get(LISTING).status_code == 302  # no role: no admin access at all
    assert not item_list_for_user(user=make_user("nobody2")).exists()


def test_rows_show_review_status_without_a_query_each(tree):
    reporter = make_user("rep_a", unit=tree["A"], role=Role.REPORTER)
    submitted = item_create(user=reporter, unit=tree["A"], headline="Tin đang duyệt")
    item_submit(user=reporter, item=submitted)
    item_create(user=reporter, unit=tree["A"], headline="Tin nháp")
    client = province_client(tree)
    _, response = page_ids(client)
    rows = {obj.headline: obj for obj in response.context["page_obj"].object_list}
    assert rows["Tin đang duyệt"]._in_review and not rows["Tin nháp"]._in_review
    html = response.content.decode()
    assert "Tin đang duyệt" in html and "Tin nháp" in html


def test_the_paginator_falls_back_for_unordered_or_sliced_input(items):
    with pytest.warns(UnorderedObjectListWarning):
        unordered = NarrowPagePaginator(NewsItem.objects.order_by(), 20)
    assert unordered.page(1).object_list.query.is_sliced
    ordered = NewsItem.objects.order_by("-created_at")
    page = NarrowPagePaginator(ordered, 20).page(3)
    assert [o.pk for o in page.object_list] == list(ordered.values_list("pk", flat=True)[40:])
