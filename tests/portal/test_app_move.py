"""The portal's pages moved from ``cms`` to the ``portal`` app without losing a row."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.models import Page

from portal.models import HomePage
from tests.factories import make_published_item, make_tree


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets).apps


@pytest.mark.django_db(transaction=True)
def test_moving_the_portal_app_keeps_the_home_page_its_featured_items_and_content_type():
    tree = make_tree(three_level=True)
    item = make_published_item(unit=tree["A"], headline="Tin được chọn")
    before = [("cms", "0004_vietnamese_default_groups"), ("portal", None)]
    old_apps = _migrate(before)
    try:
        OldHome = old_apps.get_model("cms", "HomePage")
        OldFeatured = old_apps.get_model("cms", "HomePageFeaturedItem")
        ContentType = old_apps.get_model("contenttypes", "ContentType")
        home = OldHome.objects.get()
        OldFeatured.objects.create(page_id=home.pk, item_id=item.pk, sort_order=0)
        old_ct = ContentType.objects.get(app_label="cms", model="homepage")
        assert ContentType.objects.filter(app_label="portal").count() == 0
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    home = HomePage.objects.get()
    assert home.content_type_id == old_ct.pk
    assert home.content_type.app_label == "portal"
    assert [f.item.headline for f in home.featured_items.all()] == ["Tin được chọn"]
    assert type(Page.objects.get(pk=home.pk).specific) is HomePage
