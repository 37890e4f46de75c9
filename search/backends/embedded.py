"""The embedded backend: an index table in the project's own database, no server.

Each item has one ``SearchEntry`` row holding its text three ways: as written, folded
(lower case, no diacritics, đ → d) and exact (lower case, diacritics kept), the last two as
space-separated words with `` | `` between headline, summary and body, so that
``" word "`` is a whole-word test and a phrase cannot run from one field into the next.

A search narrows candidates in SQL — public, in the unit subtrees, the filters, every folded
query word present — then ranks them with the rules every backend shares (see
``SearchBackend`` and docs/search.md), scored like this:

* each query word: +3 if in the headline, else +2 if in the summary, else +1 (body);
* two or more words adjacent and in order: +6 if in the headline, else +4;
* each query word typed with diacritics and found with exactly those diacritics: +1;
* equal scores: newest first.

"Every word present" is an FTS5 ``MATCH`` on SQLite (table ``search_fts``, migration
0004, tokens exactly our folded words) and ``folded_text LIKE '% word %'`` elsewhere (a
scan; fine for a province, see docs/search.md). The score is computed by the database
(``score_sql``: the rules of ``score_entry`` from the FTS5 index on SQLite, with ``strpos``
elsewhere), so only the page's ids come back; the facets count the matches in one pass.
A query matching more than ``RANK_WINDOW`` items ranks and counts facets over the newest
``RANK_WINDOW`` of them (``total`` stays exact).
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.expressions import RawSQL

from .. import fts
from ..models import SearchEntry
from ..text import fold, has_diacritics, highlight_snippet, highlight_whole, normalise, words
from .base import (
    FACET_SIZE,
    FACETS,
    MAX_PREFIX_CHARS,
    MAX_QUERY_WORDS,
    SORT_DATE,
    FacetValue,
    ItemDocument,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
    Suggestion,
    local_bound,
)

# Matches beyond this many (the oldest) are not ranked or counted in facets; total is exact.
RANK_WINDOW = 5000

HEADLINE_WORD, SUMMARY_WORD, BODY_WORD = 3.0, 2.0, 1.0
HEADLINE_PHRASE, TEXT_PHRASE = 6.0, 4.0
EXACT_WORD = 1.0

FIELD_SEPARATOR = " | "


def _joined(fields: list[str], transform) -> str:
    """`` a b | c | d e `` — each field's words, transformed, fields kept apart."""
    return " " + FIELD_SEPARATOR.join(" ".join(words(transform(f))) for f in fields) + " "


def entry_texts(headline: str, summary: str, body: str) -> dict[str, str]:
    """The derived text columns of a ``SearchEntry`` (also used by the data migration)."""
    fields = [headline, summary, body]
    return {
        "folded_headline": _joined([headline], fold),
        "folded_summary": _joined([summary], fold),
        "folded_text": _joined(fields, fold),
        "exact_text": _joined(fields, normalise),
    }


def query_words(text: str) -> tuple[list[str], list[str]]:
    """(folded words in order, distinct words typed with diacritics) of a query."""
    typed = [w for w in words(normalise(text)) if fold(w)][:MAX_QUERY_WORDS]
    folded = [fold(w) for w in typed]
    exact = list(dict.fromkeys(w for w in typed if has_diacritics(w)))
    return folded, exact


def score_entry(folded_words: list[str], exact_words: list[str], row: dict) -> float:
    """The rank of one candidate row (see the module docstring)."""
    segments = row["folded_text"].split(FIELD_SEPARATOR.strip())
    headline = row["folded_headline"]
    summary = segments[1] if len(segments) == 3 else ""
    score = 0.0
    for word in dict.fromkeys(folded_words):
        needle = f" {word} "
        if needle in headline:
            score += HEADLINE_WORD
        elif needle in summary:
            score += SUMMARY_WORD
        else:
            score += BODY_WORD
    if len(folded_words) > 1:
        phrase = " " + " ".join(folded_words) + " "
        if phrase in headline:
            score += HEADLINE_PHRASE
        elif any(phrase in f" {segment} " for segment in segments):
            score += TEXT_PHRASE
    exact_text = row["exact_text"]
    score += EXACT_WORD * sum(1 for w in exact_words if f" {w} " in exact_text)
    return score


_IN_FTS = "id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)"


def _score_sql_fts(folded_words: list[str], exact_words: list[str]) -> tuple[str, list[str]]:
    """``score_entry`` from the FTS5 index alone (SQLite, migration 0006): each test is the
    set of rows whose field holds the word or the phrase; no text is read."""
    parts, params = [], []
    for word in dict.fromkeys(folded_words):
        parts.append(
            f"(CASE WHEN {_IN_FTS} THEN {HEADLINE_WORD} "
            f"WHEN {_IN_FTS} THEN {SUMMARY_WORD} ELSE {BODY_WORD} END)"
        )
        params += [f'folded_headline : "{word}"', f'folded_summary : "{word}"']
    if len(folded_words) > 1:
        phrase = " ".join(folded_words)
        parts.append(
            f"(CASE WHEN {_IN_FTS} THEN {HEADLINE_PHRASE} WHEN {_IN_FTS} THEN {TEXT_PHRASE} "
            "ELSE 0 END)"
        )
        params += [f'folded_headline : "{phrase}"', f'folded_text : "{phrase}"']
    for word in exact_words:
        parts.append(f"(CASE WHEN {_IN_FTS} THEN {EXACT_WORD} ELSE 0 END)")
        params.append(f'exact_text : "{word}"')
    return " + ".join(parts) or "0", params


def score_sql(folded_words: list[str], exact_words: list[str]) -> tuple[str, list[str]]:
    """``score_entry`` as one SQL expression over the entry's columns (and its parameters),
    so that the database ranks every match and returns only the page."""
    if _uses_fts():
        return _score_sql_fts(folded_words, exact_words)
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    parts, params = [], []
    for word in dict.fromkeys(folded_words):
        parts.append(
            f"(CASE WHEN {find}(folded_headline, %s) > 0 THEN {HEADLINE_WORD} "
            f"WHEN {find}(folded_summary, %s) > 0 THEN {SUMMARY_WORD} ELSE {BODY_WORD} END)"
        )
        params += [f" {word} ", f" {word} "]
    if len(folded_words) > 1:
        phrase = " " + " ".join(folded_words) + " "
        parts.append(
            f"(CASE WHEN {find}(folded_headline, %s) > 0 THEN {HEADLINE_PHRASE} "
            f"WHEN {find}(folded_text, %s) > 0 THEN {TEXT_PHRASE} ELSE 0 END)"
        )
        params += [phrase, phrase]
    for word in exact_words:
        parts.append(f"(CASE WHEN {find}(exact_text, %s) > 0 THEN {EXACT_WORD} ELSE 0 END)")
        params.append(f" {word} ")
    return " + ".join(parts) or "0", params


def _entry_fields(doc: ItemDocument) -> dict:
    return {
        "uuid": doc.uuid,
        "public": doc.public,
        "status": doc.status,
        "unit_path": doc.unit_path,
        "unit_province": doc.unit_province,
        "unit_district": doc.unit_district,
        "unit_commune": doc.unit_commune,
        "kind": doc.kind,
        "category_id": doc.category_id,
        "category": doc.category,
        "published_at": doc.published_at,
        "date": doc.date,
        "month": doc.month,
        "headline": doc.headline,
        "summary": doc.summary,
        "body": doc.body,
        **entry_texts(doc.headline, doc.summary, doc.body),
    }


def _uses_fts() -> bool:
    return connection.vendor == "sqlite"


def _fts_match(column: str, terms: list[str]) -> str:
    """An FTS5 query: every term (already our whole words) in ``column``."""
    return f"{column} : ({' '.join(terms)})"


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def index(self, doc: ItemDocument) -> None:
        SearchEntry.objects.update_or_create(item_id=doc.item_id, defaults=_entry_fields(doc))

    def delete(self, item_id: int) -> None:
        SearchEntry.objects.filter(item_id=item_id).delete()

    def ping(self) -> dict:
        return {"documents": SearchEntry.objects.count()}

    # --- reading ----------------------------------------------------------------------

    def _scoped(self, query: SearchQuery):
        """Entries in scope and passing every filter (not the words)."""
        qs = SearchEntry.objects.all()
        if query.public_only:
            qs = qs.filter(public=True)
        if query.unit_paths is not None:
            scope = Q(pk__in=[])
            for path in query.unit_paths:
                scope |= Q(unit_path__startswith=path)
            qs = qs.filter(scope)
        if query.within_path:
            qs = qs.filter(unit_path__startswith=query.within_path)
        for name in ("category", "kind", "status"):
            value = getattr(query, name)
            if value:
                qs = qs.filter(**{name: value})
        if query.date_from:
            qs = qs.filter(date__gte=local_bound(query.date_from, end=False))
        if query.date_to:
            qs = qs.filter(date__lt=local_bound(query.date_to, end=True))
        return qs

    def _with_words(self, qs, folded_words: list[str]):
        distinct = list(dict.fromkeys(folded_words))
        if not distinct:
            return qs
        if _uses_fts():
            match = _fts_match("folded_text", [f'"{w}"' for w in distinct])
            return qs.filter(
                pk__in=RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [match])
            )
        for word in distinct:
            qs = qs.filter(folded_text__contains=f" {word} ")
        return qs

    def search(self, query: SearchQuery) -> SearchResults:
        folded_words, exact_words = query_words(query.text)
        if (not folded_words and not query.match_all_if_empty) or query.unit_paths == []:
            return SearchResults()
        matched = self._with_words(self._scoped(query), folded_words)
        total = matched.count()
        qs = matched
        if total > RANK_WINDOW:
            # A very common word (unaccented Vietnamese syllables often are): rank and
            # count facets over the newest RANK_WINDOW matches only; ``total`` stays exact.
            newest = matched.order_by("-date", "-item_id").values("id")[:RANK_WINDOW]
            qs = SearchEntry.objects.filter(id__in=newest)
        facets = {}
        if query.facets:
            # One pass over the matches' facet columns (cheaper than a GROUP BY per facet,
            # each of which would run the word filter again).
            counters = [Counter() for _ in FACETS]
            for row in qs.values_list(*FACETS.values()).iterator(chunk_size=5000):
                for counter, value in zip(counters, row, strict=True):
                    if value:
                        counter[value] += 1
            for (name, _field), counts in zip(FACETS.items(), counters, strict=True):
                if name == "month":
                    ordered = sorted(counts.items(), reverse=True)
                else:
                    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                facets[name] = [FacetValue(key=k, count=n) for k, n in ordered[:FACET_SIZE]]
        offset, limit = max(query.offset, 0), max(query.limit, 0)
        if query.sort == SORT_DATE or not folded_words:
            ordered_qs = qs.order_by("-date", "-item_id").annotate(score=Value(0.0))
        else:
            sql, params = score_sql(folded_words, exact_words)
            # SQL from constants; the words travel as parameters.
            ordered_qs = qs.annotate(score=RawSQL(sql, params)).order_by(  # noqa: S611
                "-score", "-date", "-item_id"
            )
        page = list(ordered_qs.values_list("score", "item_id")[offset : offset + limit])
        highlights = {}
        if query.highlight and page:
            wanted = set(folded_words)
            for row in SearchEntry.objects.filter(item_id__in=[i for _, i in page]).values(
                "item_id", "headline", "summary", "body"
            ):
                highlights[row["item_id"]] = {
                    "headline": highlight_whole(row["headline"], wanted),
                    "snippet": highlight_snippet([row["body"], row["summary"]], wanted)
                    if wanted
                    else highlight_snippet([row["summary"], row["body"]], wanted),
                }
        return SearchResults(
            hits=[
                SearchHit(item_id=item_id, score=score, highlight=highlights.get(item_id, {}))
                for score, item_id in page
            ],
            total=total,
            facets=facets,
        )

    def suggest(self, prefix, *, public_only=True, unit_paths=None, limit=8):
        typed = [fold(w)[:MAX_PREFIX_CHARS] for w in words(normalise(prefix)) if fold(w)]
        typed = typed[:MAX_QUERY_WORDS]
        if not typed or unit_paths == []:
            return []
        qs = self._scoped(SearchQuery(text="", public_only=public_only, unit_paths=unit_paths))
        if _uses_fts():
            match = _fts_match("folded_headline", [f'"{w}"*' for w in dict.fromkeys(typed)])
            qs = qs.filter(
                pk__in=RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [match])
            )
        else:
            for word in dict.fromkeys(typed):
                qs = qs.filter(folded_headline__contains=f" {word}")
        rows = qs.order_by("-date", "-item_id").values_list("item_id", "headline")[: max(limit, 0)]
        return [Suggestion(item_id=i, headline=h) for i, h in rows]

    # --- maintenance ------------------------------------------------------------------

    def rebuild(
        self, docs: Iterable[ItemDocument], *, progress: Callable[[int], None] | None = None
    ) -> dict:
        """Replace every entry in one transaction: readers see the old entries until it
        commits (the embedded equivalent of an alias swap)."""
        started = time.perf_counter()
        count = 0
        batch: list[SearchEntry] = []
        with transaction.atomic():
            if _uses_fts():  # bulk-load without per-row FTS triggers, index once at the end
                with connection.cursor() as cursor:
                    for sql in fts.DROP_TRIGGERS:
                        cursor.execute(sql)
                    cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
            SearchEntry.objects.all().delete()
            for doc in docs:
                batch.append(SearchEntry(item_id=doc.item_id, **_entry_fields(doc)))
                if len(batch) >= 500:
                    SearchEntry.objects.bulk_create(batch)
                    count += len(batch)
                    if progress:
                        progress(len(batch))
                    batch = []
            if batch:
                SearchEntry.objects.bulk_create(batch)
                count += len(batch)
                if progress:
                    progress(len(batch))
            if _uses_fts():  # in the same transaction: readers never see a partial index
                with connection.cursor() as cursor:
                    for sql in fts.REBUILD + fts.CREATE_TRIGGERS:
                        cursor.execute(sql)
        return {
            "index": SearchEntry._meta.db_table,
            "documents": count,
            "seconds": round(time.perf_counter() - started, 2),
        }

    def status(self) -> dict:
        return {
            "indexes": [
                {
                    "name": SearchEntry._meta.db_table,
                    "live": True,
                    "documents": SearchEntry.objects.count(),
                    "public": SearchEntry.objects.filter(public=True).count(),
                }
            ]
        }
