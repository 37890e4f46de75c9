"""Rebuild the image library's originals stored before uploads were checked by content."""

from django.core.management.base import BaseCommand
from wagtail.images import get_image_model

from media.image_services import image_rebuild_original


class Command(BaseCommand):
    help = (
        "Rebuild library pictures that carry metadata (EXIF, GPS, XMP, comments) from their "
        "pixels, orientation applied; their renditions are made again. Uploads since issue "
        "16 are already stored this way. --all rebuilds every picture."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="rebuild every picture")

    def handle(self, *args, **options):
        rebuilt = kept = failed = 0
        for image in get_image_model().objects.order_by("pk").iterator():
            try:
                changed = image_rebuild_original(image=image, force=options["all"])
            except Exception as exc:  # one unreadable file must not stop the others
                failed += 1
                self.stderr.write(f"image {image.pk} ({image.file.name}): {exc}")
                continue
            rebuilt += changed
            kept += not changed
        self.stdout.write(f"rebuilt {rebuilt}, already clean {kept}, failed {failed}")
