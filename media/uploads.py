"""What every upload must pass before its content is read: a name without control
characters or bidirectional overrides, a size above zero and within the limit."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Django already strips directories from upload names; control characters, stray
# separators and bidirectional overrides (a "gpj.exe" shown as "exe.jpg") still mean a
# hostile or broken client.
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\u202a-\u202e\u2066-\u2069]")


def check_name_and_size(upload) -> None:
    name = getattr(upload, "name", "") or ""
    if UNSAFE_NAME.search(name) or name.strip(" .") in ("", ".."):
        if name:  # an unnamed upload (made in code) is fine
            raise ValidationError(_("The file name contains forbidden characters."))
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError(_("The file is empty."))
    if size > settings.NGUON_MEDIA_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is too large (limit %(limit)s MB).")
            % {"limit": settings.NGUON_MEDIA_MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
