"""Listings issue a constant number of queries whatever the size (bench/bench_newsroom.py
measures their time at 100,000 items)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from newsroom.models import NewsItem, Role
from newsroom.selectors import awaiting_summary
from newsroom.services import item_create, item_submit
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def add_items(tree, reporter, n, start):
    for i in range(n):
        unit = tree["A"] if i % 2 else tree["C"]
        item = item_create(user=reporter[unit.code], unit=unit, headline=f"Tin số {start + i}")
        item_submit(user=reporter[unit.code], item=item)


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_province_listing_and_awaiting_panel_are_constant(tree):
    reporter = {
        code: make_user(f"rep_{code}", unit=tree[key], role=Role.REPORTER)
        for key, code in (("A", "90001"), ("C", "90003"))
    }
    approver_a = make_user("appr_a", unit=tree["A"], role=Role.APPROVER)
    province = make_user("appr_p", unit=tree["P"], role=Role.APPROVER)
    client = Client()
    client.force_login(province)
    listing = lambda: client.get("/admin/snippets/newsroom/newsitem/")  # noqa: E731

    def awaiting():
        summary = awaiting_summary(user=approver_a)
        return [e["item"].unit.name for e in summary["entries"]]

    add_items(tree, reporter, 3, 0)
    listing()  # warm caches (content types, site, …)
    small = (count_queries(listing), count_queries(awaiting))
    add_items(tree, reporter, 12, 3)
    large = (count_queries(listing), count_queries(awaiting))
    assert NewsItem.objects.count() == 15
    assert small == large, (small, large)
    assert large[1] <= 3
