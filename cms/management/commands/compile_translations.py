"""Compile every ``locale/*/LC_MESSAGES/*.po`` to ``.mo`` with Babel (no GNU gettext needed)."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the shipped translations (.po → .mo) without GNU gettext."

    def handle(self, *args, **options):
        count = 0
        # The project catalogue, Wagtail's, and each project app's own ``<app>/locale``.
        app_locales = sorted(Path(settings.BASE_DIR).glob("*/locale"))
        for locale_dir in [*settings.LOCALE_PATHS, *app_locales]:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                catalog = read_catalogue(po_path)
                with open(mo_path, "wb") as fh:
                    write_mo(fh, catalog)
                count += 1
        self.stdout.write(f"compiled {count} catalogue(s)")


def read_catalogue(po_path: Path):
    """Read one catalogue, refusing what would compile with a warning: a catalogue without
    ``Plural-Forms`` (Babel would guess), or an entry with more plural forms than the
    header declares (Vietnamese has one)."""
    text = po_path.read_text(encoding="utf-8")
    if "Plural-Forms:" not in text.split("\n\n", 1)[0]:
        raise CommandError(f"{po_path}: the header has no Plural-Forms")
    try:
        with open(po_path, "rb") as fh:
            return read_po(fh, locale=po_path.parent.parent.name, abort_invalid=True)
    except PoFileError as exc:
        raise CommandError(f"{po_path}: {exc}") from exc
