"""``manage.py restore <folder>``: check checksums, restore database and media, compare."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cms.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup`: every checksum is verified first; then "
        "the database and the media files are restored and row counts compared."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument(
            "--database",
            help="restore into this database (PostgreSQL name or SQLite file; default: current)",
        )
        parser.add_argument("--create-database", action="store_true")
        parser.add_argument(
            "--media-root",
            help="restore files into this folder (default: the default storage, MEDIA_ROOT or S3)",
        )
        parser.add_argument("--no-media", action="store_true")
        parser.add_argument(
            "--verify-only", action="store_true", help="check the checksums and stop"
        )
        parser.add_argument(
            "--accept-unsigned",
            action="store_true",
            help="accept a manifest with no signature (a backup made before manifests were "
            "signed); a wrong signature is still refused and every path still checked",
        )
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, folder, *args, **options):
        folder = Path(folder)
        try:
            if options["verify_only"]:
                problems = backup_verify(folder, allow_unsigned=options["accept_unsigned"])
                if problems:
                    raise CommandError("backup is damaged:\n  " + "\n  ".join(problems))
                self.stdout.write(self.style.SUCCESS(f"{folder}: every checksum matches."))
                return
            if options["interactive"] and not options["database"]:
                answer = input("This replaces the current database and media files. Type 'yes': ")
                if answer.strip().lower() != "yes":
                    raise CommandError("Restore cancelled.")
            result = backup_restore(
                folder=folder,
                database=options["database"],
                media_root=Path(options["media_root"]) if options["media_root"] else None,
                create_database=options["create_database"],
                include_media=not options["no_media"],
                allow_unsigned=options["accept_unsigned"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        items = result.counts.get("newsroom.NewsItem", 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored into {result.database}: {result.files} files, {items} news items; "
                "checksums and row counts match the manifest."
            )
        )
