"""Vietnamese-aware text helpers shared by every backend.

Folding removes tone and vowel marks and maps đ/Đ to d, so ``tiem chung`` meets
``tiêm chủng`` and ``DONG XOAI`` meets ``Đồng Xoài``. Text is brought to NFC first: some
keyboards and copy-pastes send decomposed letters (``e`` + combining circumflex + ...).
"""

import html
import re
import unicodedata
from html.parser import HTMLParser

# A word: letters, digits, underscore — and combining marks, so that a letter without a
# precomposed form keeps its word together before and after folding.
_WORD = re.compile(r"[\w\u0300-\u036f]+")
_SPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def _fold_slow(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).lower()


class _FoldTable(dict):
    """``str.translate`` table folding one character at a time, filled as characters
    are met (a few hundred in Vietnamese text): indexing 100,000 items folds fast."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_slow(chr(code))
        return value


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower case, no diacritics, đ → d: what every spelling of a word has in common."""
    return unicodedata.normalize("NFC", text or "").translate(_FOLD_TABLE)


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


# --- highlighting ---------------------------------------------------------------------------

SNIPPET_CHARS = 200
# Private-use characters around a match inside a snippet: never in indexed text (``clean``
# removes them), turned into <mark> after the text is escaped.
MARK_START, MARK_END = "\ue000", "\ue001"
_SENTINELS = re.compile("[\ue000\ue001]")


def clean(text: str) -> str:
    """NFC without the private-use characters the highlighter uses as markers."""
    return _SENTINELS.sub("", nfc(text))


def marked_html(text: str) -> str:
    """Escape ``text`` (markers around matches) then turn the markers into ``<mark>``:
    whatever the text holds, the result is safe HTML with only ``<mark>`` tags."""
    escaped = html.escape(text, quote=True)
    out, depth = [], 0
    for part in re.split(f"({MARK_START}|{MARK_END})", escaped):
        if part == MARK_START:
            if depth == 0:
                out.append("<mark>")
            depth += 1
        elif part == MARK_END:
            if depth == 1:
                out.append("</mark>")
            depth = max(depth - 1, 0)
        else:
            out.append(part)
    if depth:
        out.append("</mark>")
    return "".join(out)


def _marks(text: str, folded_words: set[str], prefix: str | None = None) -> list[tuple[int, int]]:
    """Spans of the words of ``text`` whose folded form is one of ``folded_words`` (or starts
    with ``prefix``, the last query word still being typed)."""

    def wanted(word: str) -> bool:
        return word in folded_words or (prefix is not None and word.startswith(prefix))

    folded = fold(text)
    if len(folded) == len(text):  # NFC text folds character for character: same spans
        return [(m.start(), m.end()) for m in _WORD.finditer(folded) if wanted(m.group())]
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if wanted(fold(m.group()))]


def _insert_marks(text: str, spans: list[tuple[int, int]]) -> str:
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], MARK_START, text[start:end], MARK_END]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def highlight_whole(text: str, folded_words: set[str], prefix: str | None = None) -> str:
    """All of ``text`` as safe HTML, every word matching a query word (or ``prefix``) marked."""
    return marked_html(_insert_marks(text, _marks(text, folded_words, prefix)))


def _cut(text: str, start: int, size: int) -> tuple[int, int]:
    """A window of about ``size`` characters from ``start``, on word boundaries."""
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        if space > start:
            end = space
    return start, end


def highlight_snippet(texts: list[str], folded_words: set[str], prefix: str | None = None) -> str:
    """A window of about ``SNIPPET_CHARS`` around the first match in the first text that
    has one (body before summary), as safe HTML; without a match, the start of the first
    non-empty text, unmarked."""
    for text in texts:
        spans = _marks(text, folded_words, prefix)
        if not spans:
            continue
        first = spans[0][0]
        start = 0
        if first > SNIPPET_CHARS // 3:
            start = text.rfind(" ", 0, first - SNIPPET_CHARS // 4) + 1
        start, end = _cut(text, start, SNIPPET_CHARS)
        inside = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
        window = _insert_marks(text[start:end], inside)
        return ("… " if start > 0 else "") + marked_html(window) + (" …" if end < len(text) else "")
    for text in texts:
        if text:
            start, end = _cut(text, 0, SNIPPET_CHARS)
            return marked_html(text[start:end]) + (" …" if end < len(text) else "")
    return ""
