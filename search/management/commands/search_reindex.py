"""(Re)index every news item into the configured backend, e.g. after switching to
Elasticsearch or restoring a database. Items are indexed as the task indexes them (live
items public, the others not); ``--queue`` sends one task per item instead. On the embedded
backend, entries of items that no longer exist are dropped."""

from django.core.management.base import BaseCommand

from newsroom.models import NewsItem
from search.backends import get_backend
from search.backends.embedded import EmbeddedBackend
from search.models import SearchEntry
from search.services import item_index
from search.tasks import index_item


class Command(BaseCommand):
    help = "Index every news item into the configured search backend."

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="store_true", help="queue one Celery task per item")

    def handle(self, *args, queue=False, **options):
        backend = get_backend()
        ids = list(NewsItem.objects.order_by("pk").values_list("pk", flat=True))
        for item_id in ids:
            if queue:
                index_item.delay(item_id)
            else:
                item_index(item_id=item_id)
        verb = "Queued" if queue else "Indexed"
        self.stdout.write(f"{verb} {len(ids)} items ({backend.name} backend).")
        if isinstance(backend, EmbeddedBackend):
            dropped, _ = SearchEntry.objects.exclude(
                item_id__in=NewsItem.objects.values("pk")
            ).delete()
            if dropped:
                self.stdout.write(f"Dropped {dropped} entries of items that no longer exist.")
