"""An item's pictures: the lead picture and the gallery, with what travels with them.

Alt text is the picture's *description* in Wagtail's image library: one text per picture,
written once when it is uploaded (the library's form requires it) and used by the portal,
the feeds, ninjs and the bulletin boards alike. An item refuses a picture that has none
(``NewsItem.clean`` and ``PictureBlock.clean``); a picture whose text was removed later is
left out by ``item_pictures`` rather than shown undescribed.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images import get_image_model
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text.rewriters import FIND_EMBED_TAG, extract_attrs

# The most pictures an item carries besides its lead picture.
GALLERY_MAX = 12


def alt_text(image) -> str:
    """The picture's alt text (its library description), stripped; "" when it has none."""
    return (getattr(image, "description", "") or "").strip()


def embed_alt(attrs: Mapping, image) -> str:
    """The alt text of a picture inserted in rich text (``<embed embedtype="image">``): what
    the editor typed in the image's dialog, else the library description; "" when it has
    neither (the portal then leaves it out, and the item refuses it)."""
    return (attrs.get("alt") or "").strip() or alt_text(image)


def body_image_embeds(html: str) -> list[tuple[int, dict]]:
    """``(image id, attributes)`` of every picture inserted in rich text ``html``, in order."""
    embeds = []
    for attr_string in FIND_EMBED_TAG.findall(html or ""):
        attrs = extract_attrs(attr_string)
        if attrs.get("embedtype") != "image":
            continue
        try:
            embeds.append((int(attrs.get("id", "")), attrs))
        except ValueError:
            continue
    return embeds


def undescribed_body_images(html: str) -> list:
    """Library images inserted in ``html`` with no alt text (neither typed in the dialog nor
    in the library): one query, none when every embed carries its own alt text."""
    bare = [pk for pk, attrs in body_image_embeds(html) if not (attrs.get("alt") or "").strip()]
    if not bare:
        return []
    images = get_image_model().objects.in_bulk(bare)
    return [images[pk] for pk in dict.fromkeys(bare) if pk in images and not alt_text(images[pk])]


def missing_alt_error(image) -> ValidationError:
    return ValidationError(
        _(
            "The picture “%(title)s” has no alt text. Open it in the image library and "
            "describe what it shows (alt text) before using it."
        ),
        code="missing_alt",
        params={"title": image.title},
    )


class PictureBlock(blocks.StructBlock):
    """One gallery picture: the library image, with this item's caption and credit."""

    image = ImageChooserBlock(label=_("picture"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=500)
    credit = blocks.CharBlock(
        label=_("credit"),
        required=False,
        max_length=255,
        help_text=_("Who took the picture, e.g. “Ảnh: Nguyễn Văn A”."),
    )

    def clean(self, value):
        value = super().clean(value)
        image = value.get("image")
        if image is not None and not alt_text(image):
            raise StructBlockValidationError(block_errors={"image": missing_alt_error(image)})
        return value

    class Meta:
        icon = "image"
        label = _("picture")


class GalleryBlock(blocks.StreamBlock):
    """The item's other pictures. A form post that leaves the gallery out (a script, an
    older form) means "no gallery" rather than an error; the editor always sends it."""

    picture = PictureBlock()

    def value_from_datadict(self, data, files, prefix):
        if f"{prefix}-count" not in data:
            return blocks.StreamValue(self, [])
        return super().value_from_datadict(data, files, prefix)

    class Meta:
        max_num = GALLERY_MAX


@dataclass(frozen=True)
class Picture:
    """A picture as the channels show it."""

    image: object  # wagtail.images.models.Image (or the project's image model)
    alt: str
    caption: str
    credit: str
    lead: bool


def _gallery_entries(item, images: Mapping[int, object] | None) -> list[tuple]:
    """``(image, caption, credit)`` of the gallery in order. With ``images`` (pk → image,
    read for many items at once) the stored ids are looked up there, not one query per
    item."""
    if images is None:
        return [
            (block.value.get("image"), block.value.get("caption"), block.value.get("credit"))
            for block in item.gallery
        ]
    entries = []
    for raw in item.gallery.raw_data:
        value = raw.get("value") or {}
        if raw.get("type") == "picture":
            entries.append(
                (images.get(value.get("image")), value.get("caption"), value.get("credit"))
            )
    return entries


def lead_picture(item) -> Picture | None:
    """The item's lead picture, or None (none chosen, or its alt text was removed).

    Reads only the item's own row and its image: listings use it for their thumbnails
    without touching the gallery (whose images are another query per item)."""
    if not item.image_id or item.image is None or not alt_text(item.image):
        return None
    return Picture(
        image=item.image,
        alt=alt_text(item.image),
        caption=item.image_caption.strip(),
        credit=item.image_credit.strip(),
        lead=True,
    )


def item_pictures(item, *, images: Mapping[int, object] | None = None) -> list[Picture]:
    """The item's pictures in reading order: the lead picture first, then the gallery.

    Pictures without alt text are left out (the item refused them when they were chosen;
    this covers a description removed in the library afterwards), and so is a gallery
    entry repeating the lead picture. The gallery's images are fetched in one query
    (``items_pictures`` reads them for many items in one query).
    """
    pictures: list[Picture] = []
    seen: set[int] = set()
    lead = lead_picture(item)
    if lead is not None:
        pictures.append(lead)
        seen.add(item.image_id)
    for image, caption, credit in _gallery_entries(item, images):
        if image is None or image.pk in seen or not alt_text(image):
            continue
        seen.add(image.pk)
        pictures.append(
            Picture(
                image=image,
                alt=alt_text(image),
                caption=(caption or "").strip(),
                credit=(credit or "").strip(),
                lead=False,
            )
        )
    return pictures


def items_pictures(items: Iterable) -> dict[int, list[Picture]]:
    """``item_pictures`` of many items (lead images selected with them): every gallery
    image in one query, so a feed or a listing costs the same whatever its length."""
    items = list(items)
    ids = {
        (raw.get("value") or {}).get("image")
        for item in items
        for raw in item.gallery.raw_data
        if raw.get("type") == "picture"
    }
    ids.discard(None)
    images = get_image_model().objects.in_bulk(list(ids)) if ids else {}
    return {item.pk: item_pictures(item, images=images) for item in items}
