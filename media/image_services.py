"""Writes for pictures: check an upload by content, store it rebuilt from its pixels, and
rebuild an original already in the image library.

``image_validate_upload`` refuses in Vietnamese (``media.images.probe_image`` decides);
``image_normalise_upload`` then replaces the upload's bytes with the rebuilt picture
(``media.images.normalise_image``: orientation applied, no metadata), so whoever stores the
upload afterwards stores the clean file: the image library's form (``media.forms``), which
the add and edit pages, the chooser's upload tab and the multiple upload share, and
``asset_create`` for media assets of kind ``image``. ``image_rebuild_original`` does the
same for a picture stored before (``manage.py images_rebuild``).
"""

import io
import logging
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image

from .images import (
    ACCEPTED_FORMATS,
    EXTENSION_FORMATS,
    LIBRARY_FORMATS,
    ImageError,
    ImageProbe,
    image_has_metadata,
    name_extension,
    normalise_image,
    probe_image,
)
from .uploads import check_name_and_size

logger = logging.getLogger(__name__)


def _image_refusal(exc: ImageError, *, formats: dict) -> ValidationError:
    """The Vietnamese message a reporter reads for a refused picture."""
    if exc.reason == "bomb":
        return ValidationError(_("The image has too many pixels to be processed safely."))
    if exc.reason == "dimensions":
        return ValidationError(
            _(
                "The image is %(width)s × %(height)s pixels; at most %(limit)s pixels a side "
                "are accepted. Make it smaller and upload it again."
            )
            % {**exc.details, "limit": settings.NGUON_IMAGE_MAX_SIDE}
        )
    if exc.reason == "frames":
        return ValidationError(
            _("The animation has more than %(limit)s frames.")
            % {"limit": settings.NGUON_IMAGE_MAX_FRAMES}
        )
    if exc.reason == "active":
        return ValidationError(
            _(
                "The file holds something besides a picture (a web page, a script or an "
                "archive). Save the picture again from a photo editor and upload that."
            )
        )
    if exc.reason == "mismatch":
        return ValidationError(
            _("The file is a %(format)s image but its name ends in “.%(extension)s”.")
            % {"format": exc.details["format"], "extension": name_extension(exc.details["name"])}
        )
    if exc.reason == "format":
        if formats is LIBRARY_FORMATS:
            return ValidationError(
                _("Only JPEG, PNG, WebP, GIF, HEIC or AVIF images are accepted.")
            )
        return ValidationError(_("Only JPEG, PNG, WebP or HEIC images are accepted."))
    return ValidationError(_("The file is not a readable image, or it is damaged."))


def image_validate_upload(*, upload, formats: dict = ACCEPTED_FORMATS, check_name: bool = False):
    """Check an uploaded still by content; return its ImageProbe.

    ``formats`` are the accepted ones (media assets: JPEG, PNG, WebP, HEIC; the image
    library: ``LIBRARY_FORMATS``); with ``check_name`` the name's extension must promise
    the format the content is. Raises ValidationError in Vietnamese; writes nothing.
    """
    check_name_and_size(upload)
    try:
        return probe_image(
            upload,
            max_pixels=settings.NGUON_MEDIA_MAX_IMAGE_PIXELS,
            max_side=settings.NGUON_IMAGE_MAX_SIDE,
            max_frames=settings.NGUON_IMAGE_MAX_FRAMES,
            formats=formats,
            name=(getattr(upload, "name", "") or "") if check_name else None,
        )
    except ImageError as exc:
        logger.info("rejected image %r: %s", getattr(upload, "name", ""), exc)
        raise _image_refusal(exc, formats=formats) from exc


def image_normalise_upload(*, upload, formats: dict = ACCEPTED_FORMATS, check_name=False):
    """Validate an uploaded picture, then replace the upload's content with the picture
    rebuilt from its pixels (``media.images.normalise_image``): orientation applied, no
    EXIF, GPS, XMP, comment or trailing bytes. HEIC and AVIF become JPEG (or PNG), and the
    upload's name follows. Return the probe of the rebuilt picture.

    The upload object itself is rewritten, not copied: every later reader of it (the
    image library's form, Wagtail's multiple upload that parks it as an "uploaded image"
    until its alt text is written, ``asset_create``) stores the clean bytes. Nothing is
    written to storage here.
    """
    image_validate_upload(upload=upload, formats=formats, check_name=check_name)
    try:
        clean = normalise_image(upload)
    except Exception as exc:  # a picture Pillow decoded but cannot write back
        logger.warning("could not rebuild image %r: %s", getattr(upload, "name", ""), exc)
        raise ValidationError(_("The file is not a readable image, or it is damaged.")) from exc
    target = getattr(upload, "file", upload)
    target.seek(0)
    target.truncate()
    target.write(clean.data)
    target.flush()
    target.seek(0)
    upload.size = len(clean.data)
    name = getattr(upload, "name", "") or ""
    if name and clean.format not in EXTENSION_FORMATS.get(name_extension(name), set()):
        upload.name = f"{os.path.splitext(name)[0]}.{clean.suffix}"  # IMG_0001.HEIC → .jpg
    if hasattr(upload, "content_type"):
        upload.content_type = Image.MIME[clean.format]
    return ImageProbe(
        format=clean.format,
        width=clean.width,
        height=clean.height,
        mode=clean.mode,
        frames=clean.frames,
        formats=LIBRARY_FORMATS,
    )


def image_rebuild_original(*, image, force: bool = False) -> bool:
    """Replace a library picture's original with its rebuilt pixels (orientation applied,
    no EXIF, GPS, XMP or comments) when it carries metadata (always with ``force``); its
    renditions are deleted so they are made again from the clean file. The old file is
    deleted once the change is committed. Returns whether the picture was rebuilt.

    For pictures stored before uploads were rebuilt (``manage.py images_rebuild``): Willow
    copies an original's EXIF, GPS included, into every JPEG and WebP rendition.
    """
    with image.open_file() as source:
        data = io.BytesIO(source.read())
    if not force and not image_has_metadata(data):
        return False
    clean = normalise_image(data)
    storage, old_name = image.file.storage, image.file.name
    stem = os.path.splitext(os.path.basename(old_name))[0]
    with transaction.atomic():
        if (clean.width, clean.height) != (image.width, image.height):
            # Turned upright: a focal point marked on the sideways picture no longer fits.
            image.focal_point_x = image.focal_point_y = None
            image.focal_point_width = image.focal_point_height = None
        image.file.save(f"{stem}.{clean.suffix}", ContentFile(clean.data), save=False)
        image.width, image.height = clean.width, clean.height
        image._set_image_file_metadata()
        image.save()
        image.renditions.all().delete()
        transaction.on_commit(lambda: storage.delete(old_name))
    logger.info("rebuilt image %s: %s -> %s", image.pk, old_name, image.file.name)
    return True
