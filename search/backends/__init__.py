"""Backend selection: ``settings.NGUON_SEARCH_BACKEND`` names the class."""

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import ItemDocument, SearchBackend, SearchHit, SearchQuery, SearchResults

__all__ = [
    "ItemDocument",
    "SearchBackend",
    "SearchHit",
    "SearchQuery",
    "SearchResults",
    "get_backend",
]


@lru_cache(maxsize=4)
def _backend(path: str) -> SearchBackend:
    return import_string(path)()


def get_backend() -> SearchBackend:
    return _backend(settings.NGUON_SEARCH_BACKEND)
