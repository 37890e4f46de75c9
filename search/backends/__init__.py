"""Backend selection: ``settings.NGUON_SEARCH_BACKEND`` names the class."""

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (
    ItemDocument,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    TemporarySearchError,
)

__all__ = [
    "ItemDocument",
    "SearchBackend",
    "SearchHit",
    "SearchQuery",
    "SearchResults",
    "SearchUnavailable",
    "TemporarySearchError",
    "get_backend",
]


@lru_cache(maxsize=4)
def _backend(path: str, *_settings_it_reads) -> SearchBackend:
    return import_string(path)()


def get_backend() -> SearchBackend:
    """The configured backend, one per process (a new one if its settings change)."""
    return _backend(
        settings.NGUON_SEARCH_BACKEND,
        settings.ELASTICSEARCH_URL,
        settings.NGUON_SEARCH_INDEX,
    )
