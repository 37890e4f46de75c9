"""Compile every ``locale/*/LC_MESSAGES/*.po`` to ``.mo`` with Babel (no GNU gettext needed)."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand


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
                with open(po_path, "rb") as fh:
                    catalog = read_po(fh, locale=po_path.parent.parent.name)
                with open(mo_path, "wb") as fh:
                    write_mo(fh, catalog)
                count += 1
        self.stdout.write(f"compiled {count} catalogue(s)")
