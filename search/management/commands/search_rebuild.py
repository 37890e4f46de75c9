"""Rebuild the search index from the database: a new index filled with the bulk helper,
then an atomic swap (Elasticsearch: the alias moves; embedded: one transaction)."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from newsroom.models import NewsItem
from search.backends import get_backend
from search.services import index_rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from the database and swap it in atomically."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, no_progress=False, **options):
        backend = get_backend()
        total = NewsItem.objects.count()
        with tqdm(
            total=total,
            unit=" tin",
            desc=f"search_rebuild ({backend.name})",
            disable=no_progress,
            file=self.stderr,
        ) as bar:
            report = index_rebuild(progress=bar.update)
        seconds = bar.format_dict.get("elapsed") or 0
        rate = report["documents"] / seconds if seconds else 0
        self.stdout.write(
            f"Rebuilt {report['index']} with {report['documents']} documents "
            f"({backend.name} backend, {rate:.0f} items/s); "
            f"{report['reindexed_after_swap']} changed meanwhile re-indexed."
        )
        for name in report.get("deleted", []):
            self.stdout.write(f"Deleted old index {name}.")
