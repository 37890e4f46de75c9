from django.core.management.base import BaseCommand
from tqdm import tqdm

from newsroom.units import official_units, units_count, units_load


class Command(BaseCommand):
    help = "Load the 34 provinces and 3,321 communes (2025 reform) from vietnam-provinces."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, no_progress=False, **options):
        specs = official_units()
        with tqdm(
            total=units_count(specs), unit="unit", disable=no_progress, file=self.stderr
        ) as bar:
            stats = units_load(specs, progress=bar.update)
        self.stdout.write(
            self.style.SUCCESS(
                "created {created}, updated {updated}, unchanged {unchanged}".format(**stats)
            )
        )
