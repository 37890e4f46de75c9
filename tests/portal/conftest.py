"""Portal fixtures: a unit tree and categories. The helpers (published items, images,
rendition rows, HTML readers) are in ``helpers.py``."""

import pytest

from newsroom.models import Category
from tests.factories import make_tree


@pytest.fixture
def tree(db):
    return make_tree(three_level=True)


@pytest.fixture
def categories(db):
    return list(Category.objects.order_by("sort_order", "name")[:3])
