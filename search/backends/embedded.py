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

On SQLite (``_search_sqlite``) "every word present" is an FTS5 ``MATCH`` on ``search_fts``
(tokens exactly our folded words); the matches' short columns are read through covering
indexes (``search/fts.py``), never the wide rows; one statement returns the window's size,
the facets (two GROUP BYs) and the page ranked by ``_score_sql_fts`` (``instr`` on the
short folded headline and summary, FTS rowid sets for a phrase in the body and for exact
diacritics). Facets count the newest ``MATCH_WINDOW`` matches and the ranking considers the
newest ``RANK_WINDOW`` (newest = highest entry id: entries are numbered as items are
indexed); ``total`` stays exact (counted in the FTS index alone for an unfiltered public
search, thanks to the ``|public`` tag). Elsewhere (``_search_orm``) it is
``folded_text LIKE '% word %'`` (a scan; fine for a province, see docs/search.md) and
``score_sql`` with ``strpos``; facets and ranking consider the newest ``MATCH_WINDOW``
matches by date.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import OperationalError, connection, transaction
from django.db.models import Q, Value
from django.db.models.expressions import RawSQL

from .. import fts, vocabulary
from ..models import PUBLIC_TAG, SearchEntry
from ..text import fold, has_diacritics, highlight_snippet, highlight_whole, normalise, words
from .base import (
    FACET_SIZE,
    FACETS,
    MAX_PREFIX_CHARS,
    MAX_QUERY_WORDS,
    SORT_DATE,
    SPELLCHECK_BELOW,
    FacetValue,
    ItemDocument,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
    Suggestion,
    last_word_prefix,
    local_bound,
)

logger = logging.getLogger(__name__)

# Facet counts (and, on PostgreSQL, the ranking) consider the newest MATCH_WINDOW matches;
# on SQLite the best-match ranking considers the newest RANK_WINDOW. ``total`` is exact.
MATCH_WINDOW = 5000
RANK_WINDOW = 2000
# The SQLite search counts facets with one GROUP BY per group (few combinations each).
FACET_GROUPS = [
    tuple(name for name, column in FACETS.items() if column.startswith("unit_")),
    tuple(name for name, column in FACETS.items() if not column.startswith("unit_")),
]
FACET_WIDTH = max(len(group) for group in FACET_GROUPS)

HEADLINE_WORD, SUMMARY_WORD, BODY_WORD = 3.0, 2.0, 1.0
HEADLINE_PHRASE, TEXT_PHRASE = 6.0, 4.0
EXACT_WORD = 1.0
# The last word matched only as a prefix ("dươ" in "Dương"): below any whole-word match.
HEADLINE_PREFIX, SUMMARY_PREFIX, BODY_PREFIX = 0.9, 0.6, 0.3

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


def score_entry(
    folded_words: list[str], exact_words: list[str], row: dict, prefix: str | None = None
) -> float:
    """The rank of one candidate row (see the module docstring). ``prefix``: the last word
    (``folded_words[-1]``) also matches as the start of a word, scoring less than whole."""
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
        elif word != prefix or needle in row["folded_text"]:
            score += BODY_WORD
        elif f" {word}" in headline:
            score += HEADLINE_PREFIX
        elif f" {word}" in summary:
            score += SUMMARY_PREFIX
        else:
            score += BODY_PREFIX
    if len(folded_words) > 1:
        phrase = " " + " ".join(folded_words) + ("" if prefix else " ")
        if phrase in headline:
            score += HEADLINE_PHRASE
        elif any(phrase in f" {segment} " for segment in segments):
            score += TEXT_PHRASE
    exact_text = row["exact_text"]
    score += EXACT_WORD * sum(1 for w in exact_words if f" {w} " in exact_text)
    return score


_IN_FTS = "id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s{bound})"


def _score_sql_fts(
    folded_words: list[str],
    exact_words: list[str],
    *,
    matches_only: bool = False,
    min_rowid: int | None = None,
    prefix: str | None = None,
) -> tuple[str, list]:
    """``score_entry`` on SQLite without reading the long texts: headline and summary tests
    are ``instr`` on the short folded columns (which ``fts.NARROW_INDEX`` covers); a phrase in
    the body and a word with its diacritics are sets of rowids from the FTS5 index
    (migration 0006). ``matches_only``: the expression is only evaluated for entries with
    every query word, so an exact word's set may be narrowed by another query word;
    ``min_rowid`` (the oldest entry of the rank window) keeps every set to the window;
    ``prefix``: the last word also matches as the start of a word (``score_entry``)."""
    in_fts = _IN_FTS.format(bound="" if min_rowid is None else " AND rowid >= %s")
    bound = [] if min_rowid is None else [min_rowid]
    whole = [w for w in dict.fromkeys(folded_words) if w != prefix]
    parts, params = [], []
    for word in dict.fromkeys(folded_words):
        if word != prefix:
            parts.append(
                f"(CASE WHEN instr(folded_headline, %s) THEN {HEADLINE_WORD} "
                f"WHEN instr(folded_summary, %s) THEN {SUMMARY_WORD} ELSE {BODY_WORD} END)"
            )
            params += [f" {word} ", f" {word} "]
            continue
        # Whole in the body: an FTS set, narrowed like the exact words below.
        narrow = f' AND "{max(whole, key=len)}"' if matches_only and whole else ""
        parts.append(
            f"(CASE WHEN instr(folded_headline, %s) THEN {HEADLINE_WORD} "
            f"WHEN instr(folded_summary, %s) THEN {SUMMARY_WORD} "
            f"WHEN {in_fts} THEN {BODY_WORD} "
            f"WHEN instr(folded_headline, %s) THEN {HEADLINE_PREFIX} "
            f"WHEN instr(folded_summary, %s) THEN {SUMMARY_PREFIX} ELSE {BODY_PREFIX} END)"
        )
        params += [f" {word} ", f" {word} ", f'folded_text : "{word}"{narrow}', *bound]
        params += [f" {word}", f" {word}"]
    if len(folded_words) > 1:
        phrase = " ".join(folded_words)
        parts.append(
            f"(CASE WHEN instr(folded_headline, %s) THEN {HEADLINE_PHRASE} "
            f"WHEN {in_fts} THEN {TEXT_PHRASE} ELSE 0 END)"
        )
        if prefix:
            params += [f" {phrase}", f'folded_text : "{phrase}"*', *bound]
        else:
            params += [f" {phrase} ", f'folded_text : "{phrase}"', *bound]
    for word in exact_words:
        parts.append(f"(CASE WHEN {in_fts} THEN {EXACT_WORD} ELSE 0 END)")
        # Only matches tested: any other query word may narrow the set (the longest, likely
        # the rarest), so that a common word's set is not most of the index (not the
        # prefix: an entry may hold it only as the start of a word).
        others = [w for w in whole if w != fold(word)]
        narrow = f' AND "{max(others, key=len)}"' if matches_only and others else ""
        params += [f'exact_text : "{word}"{narrow}', *bound]
    return " + ".join(parts) or "0", params


def score_sql(
    folded_words: list[str], exact_words: list[str], prefix: str | None = None
) -> tuple[str, list[str]]:
    """``score_entry`` as one SQL expression over the entry's columns (and its parameters),
    so that the database ranks every match and returns only the page."""
    if _uses_fts():
        return _score_sql_fts(folded_words, exact_words, prefix=prefix)
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    parts, params = [], []
    for word in dict.fromkeys(folded_words):
        if word != prefix:
            parts.append(
                f"(CASE WHEN {find}(folded_headline, %s) > 0 THEN {HEADLINE_WORD} "
                f"WHEN {find}(folded_summary, %s) > 0 THEN {SUMMARY_WORD} ELSE {BODY_WORD} END)"
            )
            params += [f" {word} ", f" {word} "]
            continue
        parts.append(
            f"(CASE WHEN {find}(folded_headline, %s) > 0 THEN {HEADLINE_WORD} "
            f"WHEN {find}(folded_summary, %s) > 0 THEN {SUMMARY_WORD} "
            f"WHEN {find}(folded_text, %s) > 0 THEN {BODY_WORD} "
            f"WHEN {find}(folded_headline, %s) > 0 THEN {HEADLINE_PREFIX} "
            f"WHEN {find}(folded_summary, %s) > 0 THEN {SUMMARY_PREFIX} ELSE {BODY_PREFIX} END)"
        )
        params += [f" {word} "] * 3 + [f" {word}"] * 2
    if len(folded_words) > 1:
        phrase = " " + " ".join(folded_words) + ("" if prefix else " ")
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
        "tags": PUBLIC_TAG if doc.public else "",
    }


def _uses_fts() -> bool:
    return connection.vendor == "sqlite"


def _fts_terms(distinct_words: list[str], prefix: str | None) -> list[str]:
    """FTS5 terms for the query's words: each a whole word, the prefix word ``"w"*``."""
    return [f'"{w}"*' if w == prefix else f'"{w}"' for w in distinct_words]


def _fts_match(column: str, terms: list[str]) -> str:
    """An FTS5 query: every term (already our whole words) in ``column``."""
    return f"{column} : ({' '.join(terms)})"


def _where_sql(qs) -> tuple[str, list] | None:
    """The WHERE clause of ``qs`` (filters on ``search_searchentry``) as SQL and parameters,
    as the ORM writes it; None when it can match nothing."""
    compiler = qs.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(qs.query.where)
    except FullResultSet:
        return "1", []
    except EmptyResultSet:
        return None
    return sql or "1", list(params)


def _filters_beyond_public(query: SearchQuery) -> bool:
    """Whether ``query`` restricts more than ``public`` (which the FTS index knows)."""
    return query.unit_paths is not None or any(
        getattr(query, name)
        for name in ("within_path", "category", "kind", "status", "date_from", "date_to")
    )


def _facet_values(counts: dict[str, dict]) -> dict[str, list[FacetValue]]:
    """Facet values as every backend lists them: most first (ties by key), months newest
    first, at most ``FACET_SIZE``."""
    facets = {}
    for name, by_key in counts.items():
        if name == "month":
            ordered = sorted(by_key.items(), reverse=True)
        else:
            ordered = sorted(by_key.items(), key=lambda kv: (-kv[1], kv[0]))
        facets[name] = [FacetValue(key=k, count=n) for k, n in ordered[:FACET_SIZE]]
    return facets


def _results(query, folded_words, page, total, facets, prefix=None) -> SearchResults:
    """The hits of ``page`` ((score, item_id) pairs), highlighted if asked: only the page's
    texts are read."""
    highlights = {}
    if query.highlight and page:
        wanted = set(folded_words) - {prefix}
        for row in SearchEntry.objects.filter(item_id__in=[i for _, i in page]).values(
            "item_id", "headline", "summary", "body"
        ):
            highlights[row["item_id"]] = {
                "headline": highlight_whole(row["headline"], wanted, prefix),
                "snippet": highlight_snippet([row["body"], row["summary"]], wanted, prefix)
                if folded_words
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


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def index(self, doc: ItemDocument) -> None:
        """The entry, and the vocabulary's counts of the words it adds or drops."""
        with transaction.atomic():
            before = vocabulary.entry_words_of(item_id=doc.item_id)
            SearchEntry.objects.update_or_create(item_id=doc.item_id, defaults=_entry_fields(doc))
            after = vocabulary.entry_words(doc.headline, doc.summary) if doc.public else set()
            vocabulary.words_count(added=after - before, removed=before - after)

    def delete(self, item_id: int) -> None:
        with transaction.atomic():
            before = vocabulary.entry_words_of(item_id=item_id)
            SearchEntry.objects.filter(item_id=item_id).delete()
            vocabulary.words_count(added=set(), removed=before)

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

    def _with_words(self, qs, folded_words: list[str], prefix: str | None = None):
        distinct = list(dict.fromkeys(folded_words))
        if not distinct:
            return qs
        if _uses_fts():
            match = _fts_match("folded_text", _fts_terms(distinct, prefix))
            return qs.filter(
                pk__in=RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [match])
            )
        for word in distinct:
            qs = qs.filter(folded_text__contains=f" {word}" if word == prefix else f" {word} ")
        return qs

    def search(self, query: SearchQuery) -> SearchResults:
        folded_words, exact_words = query_words(query.text)
        if (not folded_words and not query.match_all_if_empty) or query.unit_paths == []:
            return SearchResults()
        prefix = last_word_prefix(query)
        results = None
        if _uses_fts():
            try:
                results = self._search_sqlite(query, folded_words, exact_words, prefix)
            except OperationalError as exc:  # a migration rebuilt the table: indexes gone
                if "no such index" not in str(exc):
                    raise
                logger.warning("search indexes missing, run search_rebuild: %s", exc)
        if results is None:
            results = self._search_orm(query, folded_words, exact_words, prefix)
        if query.spellcheck and folded_words and results.total < SPELLCHECK_BELOW:
            results.corrected = self._corrected(query, results.total)
        return results

    def _corrected(self, query: SearchQuery, total: int) -> str | None:
        """A query from the vocabulary of public headlines and summaries that finds more than
        ``total`` items with the same scope and filters: the first of up to 3 candidates that
        does (a count of at most ``total + 1`` matches each, only for searches that found
        fewer than SPELLCHECK_BELOW)."""
        for corrected in vocabulary.query_corrections(query.text):
            check = replace(query, text=corrected, last_word_complete=False)
            folded_words, _exact = query_words(corrected)
            matches = self._with_words(self._scoped(check), folded_words, last_word_prefix(check))
            # Only whether it finds more: count at most total + 1 matches, rank nothing.
            if matches.values("id")[: total + 1].count() > total:
                return corrected
        return None

    def _search_sqlite(self, query, folded_words, exact_words, prefix=None) -> SearchResults:
        """SQLite: the matches come from FTS5 as rowids and are read through the covering
        index ``fts.NARROW_INDEX`` (never the wide rows); one statement returns the page, the
        facets and the window's size, a second counts the matches only when the window is
        full. The window is the newest ``MATCH_WINDOW`` matches (with facets; else
        ``RANK_WINDOW``) by entry id, i.e. the items indexed last; the ranking takes its newest
        ``RANK_WINDOW``. Without words: newest by date (``fts.RECENT_INDEX``), the page read
        over every match. Sorting by date reads every match too, not only the window."""
        where = _where_sql(self._scoped(query))
        if where is None:
            return SearchResults()
        where_sql, where_params = where
        entry = '"search_searchentry"'
        if folded_words:
            # Every word, in any column: the folded text holds every word of the entry, and
            # the other columns hold no word that it does not (the tag cannot be typed).
            match = " ".join(_fts_terms(list(dict.fromkeys(folded_words)), prefix))
            source = (
                f"search_fts JOIN {entry} INDEXED BY {fts.NARROW_INDEX} "
                f"ON {entry}.id = search_fts.rowid"
            )
            condition = f"search_fts MATCH %s AND {where_sql}"
            condition_params = [match, *where_params]
            window_order = "search_fts.rowid DESC"
        else:
            source = f"{entry} INDEXED BY {fts.RECENT_INDEX}"
            condition, condition_params = where_sql, list(where_params)
            window_order = f"{entry}.date DESC, {entry}.item_id DESC"
        columns = ", ".join(
            f"{entry}.{c} AS {c}"
            for c in ["id", "item_id", "date", *FACETS.values()]
            + (["folded_headline", "folded_summary"] if folded_words else [])
        )
        # Every piece of SQL below is built from constants (column and index names, the
        # FTS table, ORM-compiled filters); the query's words and values are parameters.
        materialized = "MATERIALIZED" if connection.Database.sqlite_version_info >= (3, 35) else ""
        window = MATCH_WINDOW if query.facets else RANK_WINDOW
        # Rows of the statement: (kind, up to FACET_WIDTH keys, number).
        pad = lambda n: ", NULL" * n  # noqa: E731
        sql = [
            f"WITH w AS {materialized} (SELECT {columns} FROM {source} WHERE {condition} "  # noqa: S608
            f"ORDER BY {window_order} LIMIT {window}) "
            f"SELECT 'window'{pad(FACET_WIDTH)}, count(*) FROM w"
        ]
        params: list = [*condition_params]
        if query.facets:
            # Two GROUP BYs over the window (units; the rest) instead of one per facet: few
            # combinations, summed per facet below.
            for group, names in enumerate(FACET_GROUPS):
                keys = ", ".join(FACETS[name] for name in names)
                sql.append(
                    f"SELECT '{group}', {keys}{pad(FACET_WIDTH - len(names))}, count(*) "  # noqa: S608
                    f"FROM w GROUP BY {keys}"
                )
        offset, limit = max(query.offset, 0), max(query.limit, 0)
        if query.sort == SORT_DATE or not folded_words:
            # Newest first over every match, not only the window (an index walk).
            sql.append(
                f"SELECT * FROM (SELECT 'hit', {entry}.item_id{pad(FACET_WIDTH - 1)}, 0.0 "  # noqa: S608
                f"FROM {source} WHERE {condition} "
                f"ORDER BY {entry}.date DESC, {entry}.item_id DESC LIMIT %s OFFSET %s)"
            )
            params += [*condition_params, limit, offset]
        else:
            # Ranked: the newest RANK_WINDOW of the window (ids descending: newest first).
            start = self._rank_window_start(query, match)
            if window == RANK_WINDOW:
                ranked = "w"
            elif start is not None:
                ranked = f"(SELECT * FROM w WHERE id >= {int(start)})"  # noqa: S608
            else:  # the newest RANK_WINDOW of the window (sorting ids only)
                ranked = (
                    "(SELECT * FROM w WHERE id >= (SELECT min(id) FROM "  # noqa: S608
                    f"(SELECT id FROM w ORDER BY id DESC LIMIT {RANK_WINDOW})))"
                )
            score, score_params = _score_sql_fts(
                folded_words, exact_words, matches_only=True, min_rowid=start, prefix=prefix
            )
            sql.append(
                f"SELECT * FROM (SELECT 'hit', item_id{pad(FACET_WIDTH - 1)}, {score} AS score "  # noqa: S608
                f"FROM {ranked} ORDER BY score DESC, date DESC, item_id DESC LIMIT %s OFFSET %s)"
            )
            params += [*score_params, limit, offset]
        facet_counts: dict[str, Counter] = {name: Counter() for name in FACETS}
        page, in_window = [], 0
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(sql), params)
            for kind, *keys, value in cursor.fetchall():
                if kind == "hit":
                    page.append((float(value), keys[0]))
                elif kind == "window":
                    in_window = value
                else:
                    for name, key in zip(FACET_GROUPS[int(kind)], keys, strict=False):
                        if key:
                            facet_counts[name][key] += value
            total = in_window
            if in_window >= window:
                if folded_words and query.public_only and not _filters_beyond_public(query):
                    # The words and the public tag say it all: count in the index alone.
                    count_sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH %s"
                    count_params = [f'{match} "{PUBLIC_TAG}"']
                else:
                    count_sql = f"SELECT count(*) FROM {source} WHERE {condition}"  # noqa: S608
                    count_params = condition_params
                cursor.execute(count_sql, count_params)
                total = cursor.fetchone()[0]
        facets = _facet_values(facet_counts) if query.facets else {}
        return _results(query, folded_words, page, total, facets, prefix)

    @staticmethod
    def _rank_window_start(query: SearchQuery, match: str) -> int | None:
        """The oldest entry id of the rank window of an unfiltered public search, from the
        FTS index alone (None: fewer matches than the window, or filters it cannot see)."""
        if not query.public_only or _filters_beyond_public(query):
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH %s "
                "ORDER BY rowid DESC LIMIT 1 OFFSET %s",
                [f'{match} "{PUBLIC_TAG}"', RANK_WINDOW - 1],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    def _search_orm(self, query, folded_words, exact_words, prefix=None) -> SearchResults:
        """Any database: the word filter is ``LIKE``, the score ``strpos`` (a scan)."""
        matched = self._with_words(self._scoped(query), folded_words, prefix)
        total = matched.count()
        qs = matched
        if total > MATCH_WINDOW:
            # A very common word (unaccented Vietnamese syllables often are): rank and
            # count facets over the newest MATCH_WINDOW matches only; ``total`` stays exact.
            newest = matched.order_by("-date", "-item_id").values("id")[:MATCH_WINDOW]
            qs = SearchEntry.objects.filter(id__in=newest)
        facets = {}
        if query.facets:
            # One pass over the matches' facet columns (cheaper than a GROUP BY per facet,
            # each of which would run the word filter again).
            counters = {name: Counter() for name in FACETS}
            for row in qs.values_list(*FACETS.values()).iterator(chunk_size=5000):
                for name, value in zip(FACETS, row, strict=True):
                    if value:
                        counters[name][value] += 1
            facets = _facet_values(counters)
        offset, limit = max(query.offset, 0), max(query.limit, 0)
        if query.sort == SORT_DATE or not folded_words:
            ordered_qs = qs.order_by("-date", "-item_id").annotate(score=Value(0.0))
        else:
            sql, params = score_sql(folded_words, exact_words, prefix)
            # SQL from constants; the words travel as parameters.
            ordered_qs = qs.annotate(score=RawSQL(sql, params)).order_by(  # noqa: S611
                "-score", "-date", "-item_id"
            )
        page = list(ordered_qs.values_list("score", "item_id")[offset : offset + limit])
        return _results(query, folded_words, page, total, facets, prefix)

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
        words_counted: Counter = Counter()
        with transaction.atomic():
            if _uses_fts():  # bulk-load without per-row FTS triggers, index once at the end
                with connection.cursor() as cursor:
                    for sql in fts.DROP_TRIGGERS + fts.DROP_INDEXES:
                        cursor.execute(sql)
                    cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
            SearchEntry.objects.all().delete()
            for doc in docs:
                batch.append(SearchEntry(item_id=doc.item_id, **_entry_fields(doc)))
                if doc.public:
                    words_counted.update(vocabulary.entry_words(doc.headline, doc.summary))
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
                    for sql in fts.REBUILD + fts.CREATE_TRIGGERS + fts.CREATE_INDEXES:
                        cursor.execute(sql)
            vocabulary.words_replace(words_counted)
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
