"""The embedded backend: an index table in the project's own database, no server.

Each item has one ``SearchEntry`` row holding its text three ways: as written, folded
(lower case, no diacritics, đ → d) and exact (lower case, diacritics kept), the last two as
space-separated words with `` | `` between headline, summary and body, so that
``" word "`` is a whole-word test and a phrase cannot run from one field into the next.

A search narrows candidates in SQL — public, in the unit subtrees, every folded query word
present (``LIKE '% word %'``) — then ranks them in Python with the rules every backend
shares (see ``SearchBackend`` and docs/search.md), scored like this:

* each query word: +3 if in the headline, else +2 if in the summary, else +1 (body);
* two or more words adjacent and in order: +6 if in the headline, else +4;
* each query word typed with diacritics and found with exactly those diacritics: +1;
* equal scores: newest first.

``LIKE '%…%'`` uses no index, so every search scans the folded text of all items (about
0.3 s for 30,000 items on SQLite), and at most ``CANDIDATE_LIMIT`` candidates are ranked.
That is fine for a province's newsroom; a national archive should use Elasticsearch.
"""

from django.db.models import Q

from ..models import SearchEntry
from ..text import fold, has_diacritics, normalise, words
from .base import (
    MAX_QUERY_WORDS,
    ItemDocument,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
)

# At most this many candidates (the newest) are ranked; ``total`` still counts them all.
CANDIDATE_LIMIT = 2000

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


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def index(self, doc: ItemDocument) -> None:
        SearchEntry.objects.update_or_create(
            item_id=doc.item_id,
            defaults={
                "uuid": doc.uuid,
                "public": doc.public,
                "unit_path": doc.unit_path,
                "kind": doc.kind,
                "category_id": doc.category_id,
                "published_at": doc.published_at,
                "headline": doc.headline,
                "summary": doc.summary,
                "body": doc.body,
                **entry_texts(doc.headline, doc.summary, doc.body),
            },
        )

    def delete(self, item_id: int) -> None:
        SearchEntry.objects.filter(item_id=item_id).delete()

    def ping(self) -> dict:
        return {"documents": SearchEntry.objects.count()}

    def search(self, query: SearchQuery) -> SearchResults:
        folded_words, exact_words = query_words(query.text)
        if not folded_words or query.unit_paths == []:
            return SearchResults()
        qs = SearchEntry.objects.all()
        if query.public_only:
            qs = qs.filter(public=True)
        if query.unit_paths is not None:
            scope = Q()
            for path in query.unit_paths:
                scope |= Q(unit_path__startswith=path)
            qs = qs.filter(scope)
        for word in dict.fromkeys(folded_words):
            qs = qs.filter(folded_text__contains=f" {word} ")
        # One scan of the table for the ids of every match (small), then the texts of
        # the newest CANDIDATE_LIMIT by primary key.
        matches = list(qs.order_by("-published_at", "-item_id").values_list("item_id", flat=True))
        total = len(matches)
        rows = SearchEntry.objects.filter(item_id__in=matches[:CANDIDATE_LIMIT]).values(
            "item_id", "folded_headline", "folded_text", "exact_text", "published_at"
        )
        scored = [
            (
                score_entry(folded_words, exact_words, row),
                row["published_at"].timestamp() if row["published_at"] else 0.0,
                row["item_id"],
            )
            for row in rows
        ]
        scored.sort(reverse=True)
        offset = max(query.offset, 0)
        page = scored[offset : offset + max(query.limit, 0)]
        return SearchResults(
            hits=[SearchHit(item_id=item_id, score=score) for score, _, item_id in page],
            total=total,
        )
