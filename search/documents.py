"""Build the index document of a news item from the database."""

from newsroom.models import NewsItem

from .backends.base import ItemDocument
from .text import html_to_text, nfc


def item_document(item: NewsItem) -> ItemDocument:
    """What the index holds for ``item``: text as a reader sees it (no markup), in NFC."""
    return ItemDocument(
        item_id=item.pk,
        uuid=item.uuid,
        public=bool(item.live),
        unit_path=item.unit.path,
        unit_code=item.unit.code,
        kind=item.kind,
        category_id=item.category_id,
        published_at=item.first_published_at,
        headline=nfc(item.headline).strip(),
        summary=nfc(item.summary).strip(),
        body=" ".join(
            filter(None, [html_to_text(item.body), nfc(item.transcript).strip(), nfc(item.byline)])
        ),
    )
