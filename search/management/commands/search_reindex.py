"""Kept for old scripts: ``search_reindex`` is ``search_rebuild``; ``--queue`` sends one
Celery task per item instead (the index is updated in place, no swap)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from newsroom.models import NewsItem
from search.tasks import index_item


class Command(BaseCommand):
    help = "Alias of search_rebuild; --queue queues one indexing task per item instead."

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="store_true", help="queue one Celery task per item")

    def handle(self, *args, queue=False, **options):
        if not queue:
            call_command("search_rebuild", no_progress=True, stdout=self.stdout, stderr=self.stderr)
            return
        ids = list(NewsItem.objects.order_by("pk").values_list("pk", flat=True))
        for item_id in ids:
            index_item.delay(item_id)
        self.stdout.write(f"Queued {len(ids)} items.")
