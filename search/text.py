"""Vietnamese-aware text folding shared by every backend.

Folding removes tone and vowel marks and maps đ/Đ to d, so ``tiem chung`` meets
``tiêm chủng`` and ``DONG XOAI`` meets ``Đồng Xoài``.
"""

import re
import unicodedata

from django.utils.html import strip_tags

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).lower()


def normalise(text: str) -> str:
    """Lower-case with diacritics kept (NFC), for exact-diacritic matching."""
    return unicodedata.normalize("NFC", text or "").lower()


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


def html_to_text(html: str) -> str:
    return re.sub(r"\s+", " ", strip_tags(html or "")).strip()
