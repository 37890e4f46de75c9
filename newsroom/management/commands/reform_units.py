"""Apply an administrative reform: move units to a new parent, merge units into a survivor.

manage.py reform_units --move 25198:70 --merge 689:70 [--dry-run]
manage.py reform_units --collapse 70 --dry-run    # districts abolished: two levels
"""

from django.core.management.base import BaseCommand, CommandError

from newsroom.models import AdministrativeUnit
from newsroom.reform import collapse_plan, units_reform


def _pair(value: str) -> tuple[str, str]:
    left, sep, right = value.partition(":")
    if not sep or not left or not right:
        raise CommandError(f"expected CODE:CODE, got {value!r}")
    return left.strip(), right.strip()


class Command(BaseCommand):
    help = "Move communes to a new parent and merge units; everything pointing at a unit follows."

    def add_arguments(self, parser):
        parser.add_argument("--move", action="append", default=[], metavar="CODE:NEW_PARENT")
        parser.add_argument("--merge", action="append", default=[], metavar="CODE:SURVIVOR")
        parser.add_argument("--collapse", metavar="PROVINCE", help="abolish the districts")
        parser.add_argument("--dry-run", action="store_true", help="print, change nothing")

    def handle(self, *args, **options):
        moves = [_pair(v) for v in options["move"]]
        merges = [_pair(v) for v in options["merge"]]
        try:
            if options["collapse"]:
                more_moves, more_merges = collapse_plan(options["collapse"])
                moves += more_moves
                merges += more_merges
            report = units_reform(moves=moves, merges=merges, dry_run=options["dry_run"])
        except (AdministrativeUnit.DoesNotExist, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            self.stdout.write("DRY RUN — nothing was changed.")
        for line in report.lines:
            self.stdout.write(line)
