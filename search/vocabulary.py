"""The embedded backend's vocabulary and its "Có phải bạn muốn tìm …" (did you mean).

``SearchWord`` holds every word (lower case, diacritics kept) of the headlines and
summaries of public entries, with the number of public entries holding it; the backend
keeps the counts in step when it indexes or deletes an entry and recomputes them on a
rebuild. A query word whose folded form is not in the vocabulary is replaced by the closest
word (Damerau-Levenshtein distance on the folded forms: at most 1 edit for words of up to 4
letters, else 2; ties: the word in most entries). Candidates come from a ``pg_trgm`` GiST
index (nearest by trigram distance) on PostgreSQL when the extension is installed;
otherwise (SQLite, or PostgreSQL without ``pg_trgm``) from the ``VOCABULARY_SCAN`` most
frequent words of about the same length, compared in Python.
"""

import itertools

from django.db import connection
from django.db.models import F
from django.db.models.functions import Length

from .backends.base import MAX_QUERY_WORDS, MIN_PREFIX_CHARS
from .models import SearchEntry, SearchWord
from .text import fold, nfc, normalise, words

MAX_WORD_CHARS = 64
# Nearest words by trigram distance that the edit distance then sorts (PostgreSQL).
TRIGRAM_CANDIDATES = 50
# At most this many words (most frequent first) compared in Python without pg_trgm.
VOCABULARY_SCAN = 20000
# Added to the edit distance of a candidate whose first letter differs from the word typed.
FIRST_LETTER_EDIT = 0.5


def entry_words(headline: str, summary: str) -> set[str]:
    """The words of an entry the vocabulary counts: lower case with diacritics, at least
    ``MIN_PREFIX_CHARS`` folded letters, not only digits."""
    found = set()
    for word in words(normalise(f"{headline} {summary}")):
        folded = fold(word)
        if len(folded) >= MIN_PREFIX_CHARS and len(word) <= MAX_WORD_CHARS and not folded.isdigit():
            found.add(word)
    return found


def entry_words_of(*, item_id: int) -> set[str]:
    """The counted words of the item's current entry (none if absent or not public)."""
    row = (
        SearchEntry.objects.filter(item_id=item_id, public=True)
        .values_list("headline", "summary")
        .first()
    )
    return entry_words(*row) if row else set()


def words_count(*, added: set[str], removed: set[str]) -> None:
    """One more entry holds each of ``added``, one fewer each of ``removed`` (rows in word
    order, so that two indexing tasks lock them in the same order)."""
    table = SearchWord._meta.db_table
    if added:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (word, folded, entries) VALUES (%s, %s, 1) "  # noqa: S608
                f"ON CONFLICT (word) DO UPDATE SET entries = {table}.entries + 1",
                [(word, fold(word)) for word in sorted(added)],
            )
    if removed:
        gone = SearchWord.objects.filter(word__in=sorted(removed))
        gone.update(entries=F("entries") - 1)
        gone.filter(entries__lte=0).delete()


def words_replace(counts: dict[str, int]) -> None:
    """The whole vocabulary from ``counts`` (a rebuild; inside its transaction)."""
    SearchWord.objects.all().delete()
    SearchWord.objects.bulk_create(
        (SearchWord(word=w, folded=fold(w), entries=n) for w, n in counts.items()),
        batch_size=1000,
    )


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment) of ``a`` and ``b``, or
    ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before is not None and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
    return current[-1]


def trigram_available() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def _one_edit_away(folded: str) -> tuple[list[str], list[str]]:
    """Every string one edit from ``folded``: exact strings (a letter deleted, two letters
    swapped) and GLOB patterns (a letter replaced or inserted: ``?``). Words hold only word
    characters, never ``*?[``."""
    n = len(folded)
    exact = {folded[:i] + folded[i + 1 :] for i in range(n)}
    exact |= {folded[:i] + folded[i + 1] + folded[i] + folded[i + 2 :] for i in range(n - 1)}
    globs = {folded[:i] + "?" + folded[i + 1 :] for i in range(n)}
    globs |= {folded[:i] + "?" + folded[i:] for i in range(n + 1)}
    exact.discard(folded)
    return sorted(exact), sorted(globs)


def _candidates(folded: str, limit: int) -> list[tuple[str, str, int]]:
    """(word, folded, entries) that may be within ``limit`` edits of ``folded``."""
    table = SearchWord._meta.db_table
    if trigram_available():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word, folded, entries FROM {table} "  # noqa: S608
                "ORDER BY folded <-> %s LIMIT %s",
                [folded, TRIGRAM_CANDIDATES],
            )
            return list(cursor.fetchall())
    if connection.vendor == "sqlite":
        # The words one edit away, found by SQL (GLOB over the folded words, in C): most
        # typos. Only when there is none does a word of 5 letters or more fall back to the
        # Python scan below, for two edits.
        exact, globs = _one_edit_away(folded)
        placeholders = ", ".join(["%s"] * len(exact))
        where = " OR ".join([f"folded IN ({placeholders})"] + ["folded GLOB %s"] * len(globs))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word, folded, entries FROM {table} WHERE {where}",  # noqa: S608
                [*exact, *globs],
            )
            found = list(cursor.fetchall())
        if found or limit < 2:
            return found
    return list(
        SearchWord.objects.annotate(length=Length("folded"))
        .filter(length__gte=len(folded) - limit, length__lte=len(folded) + limit)
        .order_by("-entries", "word")
        .values_list("word", "folded", "entries")[:VOCABULARY_SCAN]
    )


def word_corrections(folded: str, size: int = 3) -> list[tuple[float, int, str]]:
    """Up to ``size`` vocabulary words closest to ``folded`` (a folded word it does not
    hold) as (distance, entries, word), closest then most frequent first: within 1 edit
    for words of up to 4 letters, else 2; a different first letter counts half an edit
    more."""
    limit = 1 if len(folded) <= 4 else 2
    best: dict[str, tuple[float, int, str]] = {}
    for word, candidate, entries in _candidates(folded, limit):
        distance: float = edit_distance(folded, candidate, limit)
        if distance <= limit:
            # A first letter is seldom mistyped: "xai" is "xoài" rather than the commoner
            # "tại", both one edit away.
            if candidate[:1] != folded[:1]:
                distance += FIRST_LETTER_EDIT
            best[word] = (distance, entries, word)
    return sorted(best.values(), key=lambda c: (c[0], -c[1], c[2]))[:size]


def query_corrections(text: str, size: int = 3) -> list[str]:
    """Up to ``size`` versions of ``text`` in which each word the vocabulary does not know
    is replaced by a close word (fewest edits in all, then most frequent words first), the
    other words as typed; none if every word is known. The last word is corrected too even
    if it starts a vocabulary word: the search already read it as a prefix and found too
    little. The caller keeps the first that finds more: "chn thành" → "cho thành" finds
    nothing, "chơn thành" does."""
    text = nfc(text)
    typed = [w for w in words(text) if fold(w)][:MAX_QUERY_WORDS]
    folded = [fold(w) for w in typed]
    known = set(SearchWord.objects.filter(folded__in=folded).values_list("folded", flat=True))
    # Per word: the choices as (distance, entries, word); a known word has one choice.
    choices: list[list[tuple[float, int, str]]] = []
    for word, key in zip(typed, folded, strict=True):
        if key in known or len(key) < MIN_PREFIX_CHARS or key.isdigit():
            choices.append([(0, 0, word)])
            continue
        found = word_corrections(key, size)
        if word[:1].isupper():  # "Đồng Xai" → "Đồng Xoài"
            found = [(d, n, w[:1].upper() + w[1:]) for d, n, w in found]
        choices.append(found or [(0, 0, word)])
    if all(len(c) == 1 and c[0][2] == w for c, w in zip(choices, typed, strict=True)):
        return []
    combined = [
        (sum(c[0] for c in combo), -sum(c[1] for c in combo), " ".join(c[2] for c in combo))
        for combo in itertools.product(*choices)
    ]
    return [text for _d, _n, text in sorted(combined)[:size]]
