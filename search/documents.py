"""Build the index document of a news item from the database."""

from newsroom.models import NewsItem

from .backends.base import ItemDocument
from .text import html_to_text


def item_document(item: NewsItem) -> ItemDocument:
    return ItemDocument(
        item_id=item.pk,
        uuid=item.uuid,
        public=bool(item.live),
        unit_path=item.unit.path,
        unit_code=item.unit.code,
        kind=item.kind,
        category_id=item.category_id,
        published_at=item.first_published_at,
        headline=item.headline,
        summary=item.summary,
        body=" ".join(filter(None, [html_to_text(item.body), item.transcript, item.byline])),
    )
