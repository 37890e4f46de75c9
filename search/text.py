"""Vietnamese-aware text helpers shared by every backend.

Folding removes tone and vowel marks and maps đ/Đ to d, so ``tiem chung`` meets
``tiêm chủng`` and ``DONG XOAI`` meets ``Đồng Xoài``. Text is brought to NFC first: some
keyboards and copy-pastes send decomposed letters (``e`` + combining circumflex + ...).
"""

import re
import unicodedata
from html.parser import HTMLParser

# A word: letters, digits, underscore — and combining marks, so that a letter without a
# precomposed form keeps its word together before and after folding.
_WORD = re.compile(r"[\w\u0300-\u036f]+")
_SPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def fold(text: str) -> str:
    """Lower case, no diacritics, đ → d: what every spelling of a word has in common."""
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).lower()


def normalise(text: str) -> str:
    """Lower-case with diacritics kept (NFC), for exact-diacritic matching."""
    return nfc(text).lower()


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


def has_diacritics(word: str) -> bool:
    """True if ``word`` says more than its folded form (so an exact match means something)."""
    return normalise(word) != fold(word)


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment: entities decoded, each tag a word break,
    script/style/template contents dropped."""

    SKIP = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The words a reader sees in rich text: no tags, no attributes, no ``&nbsp;``."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _SPACE.sub(" ", nfc("".join(parts for parts in parser.parts))).strip()
