"""``manage.py backup``: database dump + media files + a manifest of SHA-256 checksums."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cms.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, or the SQLite backup API) and the media files into a "
        "new folder with a manifest of SHA-256 checksums and row counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="folder to create (default: NGUON_BACKUP_DIR/nguon-<date>-<time>)",
        )
        parser.add_argument("--no-media", action="store_true", help="database only")

    def handle(self, *args, output=None, no_media=False, **options):
        if not output:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            output = Path(settings.NGUON_BACKUP_DIR) / f"nguon-{stamp}"
        output = Path(output).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = backup_create(output=output, include_media=not no_media)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        items = result.counts.get("newsroom.NewsItem", 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path}: {result.files} files, "
                f"{result.bytes / 1024 / 1024:.1f} MB, {items} news items."
            )
        )
