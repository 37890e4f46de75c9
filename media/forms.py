"""The image library's form (``WAGTAILIMAGES_IMAGE_FORM_BASE``): the add and edit pages,
the chooser's upload tab and the multiple upload all build their forms from it.

* Alt text (Wagtail's ``description``) is required, labelled and explained in Vietnamese:
  an item refuses a picture without it (``newsroom.pictures``), so it is asked for once,
  when the picture enters the library.
* The file goes through ``media.services.image_normalise_upload`` before Wagtail's own
  checks: refused by content in Vietnamese (bombs, oversized, too many frames, polyglots,
  a name that lies about the format, damaged files), else rebuilt from its pixels so the
  stored original carries no GPS or other metadata.
"""

from django.core.exceptions import ValidationError
from django.forms.fields import FileField
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm

from .images import LIBRARY_FORMATS
from .services import image_normalise_upload


class SafeImageField(WagtailImageField):
    """Wagtail's image field, with our checks by content first and the upload rebuilt."""

    def to_python(self, data):
        upload = FileField.to_python(self, data)
        if upload is None:
            return None
        if self.max_upload_size is not None and upload.size > self.max_upload_size:
            raise ValidationError(
                gettext("The file is too large (limit %(limit)s).")
                % {"limit": filesizeformat(self.max_upload_size)},
                code="file_too_large",
            )
        image_normalise_upload(upload=upload, formats=LIBRARY_FORMATS, check_name=True)
        # Wagtail's own checks (extension, pixels, Willow can open it) on the rebuilt file.
        return super().to_python(upload)


class LibraryImageForm(BaseImageForm):
    """The base of every image library form (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        if field is not None and not isinstance(field, SafeImageField):
            safe = SafeImageField(label=field.label, required=field.required, widget=field.widget)
            safe.help_text = field.help_text
            self.fields["file"] = safe
        description = self.fields.get("description")
        if description is not None:
            description.required = True
            description.label = _("Alt text (what the picture shows)")
            description.help_text = _(
                "Describe what the picture shows for someone who cannot see it (a screen "
                "reader reads it aloud; it also shows when the picture does not load), e.g. "
                "“Workers lift the last girder onto the Bến Lức bridge”. Say who and what, "
                "not “picture of”. Items refuse pictures without it."
            )
            description.error_messages["required"] = _(
                "Write the alt text: describe what the picture shows. A picture without it "
                "cannot be used in an item."
            )

    def clean_description(self):
        text = (self.cleaned_data.get("description") or "").strip()
        if not text:
            raise ValidationError(
                self.fields["description"].error_messages["required"], code="required"
            )
        return text
