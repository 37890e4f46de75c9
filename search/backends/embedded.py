"""The embedded backend: an index table in the project's own database, no server.

Candidates are narrowed in SQL (every folded query word must occur in the folded text),
then ranked in Python with the same rules the Elasticsearch backend expresses as a query:
headline above body, whole phrase above scattered words, exact diacritics above folded.
"""

import re

from django.db.models import Q

from ..models import SearchEntry
from ..text import fold, normalise, words
from .base import ItemDocument, SearchBackend, SearchHit, SearchQuery, SearchResults

# At most this many candidates are ranked in Python; beyond it the newest win.
CANDIDATE_LIMIT = 2000


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
                "folded_headline": " " + " ".join(words(fold(doc.headline))) + " ",
                "folded_text": " "
                + " ".join(words(fold(f"{doc.headline} {doc.summary} {doc.body}")))
                + " ",
            },
        )

    def delete(self, item_id: int) -> None:
        SearchEntry.objects.filter(item_id=item_id).delete()

    def ping(self) -> dict:
        return {"documents": SearchEntry.objects.count()}

    def search(self, query: SearchQuery) -> SearchResults:
        folded_words = words(fold(query.text))
        if not folded_words:
            return SearchResults()
        qs = SearchEntry.objects.all()
        if query.public_only:
            qs = qs.filter(public=True)
        if query.unit_paths is not None:
            scope = Q(pk__in=[])
            for path in query.unit_paths:
                scope |= Q(unit_path__startswith=path)
            qs = qs.filter(scope)
        for word in folded_words:
            qs = qs.filter(folded_text__contains=f" {word} ")
        rows = list(
            qs.order_by("-published_at").values(
                "item_id", "headline", "summary", "body", "folded_headline", "folded_text",
                "published_at",
            )[:CANDIDATE_LIMIT]
        )
        phrase = " " + " ".join(folded_words) + " "
        exact = normalise(query.text).strip()
        exact_words = [w for w in words(exact)]
        scored = []
        for row in rows:
            score = 0.0
            headline_words = row["folded_headline"]
            for word in folded_words:
                if f" {word} " in headline_words:
                    score += 3.0
                score += 1.0
            if len(folded_words) > 1:
                if phrase in headline_words:
                    score += 6.0
                elif phrase in row["folded_text"]:
                    score += 4.0
            original = normalise(f"{row['headline']} {row['summary']} {row['body']}")
            if exact and exact in original:
                score += 2.0
            elif exact_words and all(
                re.search(rf"\b{re.escape(w)}\b", original) for w in exact_words
            ):
                score += 1.0
            scored.append((score, row["published_at"], row["item_id"]))
        scored.sort(key=lambda t: (t[0], t[1].timestamp() if t[1] else 0), reverse=True)
        page = scored[query.offset : query.offset + query.limit]
        return SearchResults(
            hits=[SearchHit(item_id=item_id, score=score) for score, _, item_id in page],
            total=len(scored),
        )
