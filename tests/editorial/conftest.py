"""The editorial screens' tests reuse the newsroom's test province."""

from tests.newsroom.conftest import outbox, root, tree  # noqa: F401
