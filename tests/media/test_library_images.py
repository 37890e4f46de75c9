"""Pictures entering the image library (the add page, the chooser's upload tab, the
multiple upload): alt text is required, hostile files are refused in Vietnamese with
nothing stored, and what is stored (and every rendition of it) carries no GPS."""

import html
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageSequence
from wagtail.images import get_image_model
from wagtail.models import Collection, UploadedFile

from tests.factories import make_upload

pytestmark = pytest.mark.django_db

# What the editor reads, in the active language (Vietnamese in this project).
ALT_REQUIRED = (
    "Write the alt text: describe what the picture shows. A picture without it "
    "cannot be used in an item."
)
BOMB = "The image has too many pixels to be processed safely."
SIDE = (
    "The image is %(width)s × %(height)s pixels; at most %(limit)s pixels a side "
    "are accepted. Make it smaller and upload it again."
)
FRAMES = "The animation has more than %(limit)s frames."
ACTIVE = (
    "The file holds something besides a picture (a web page, a script or an "
    "archive). Save the picture again from a photo editor and upload that."
)
MISMATCH = "The file is a %(format)s image but its name ends in “.%(extension)s”."
FORMAT = "Only JPEG, PNG, WebP, GIF, HEIC or AVIF images are accepted."
DAMAGED = "The file is not a readable image, or it is damaged."
GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("bientap_anh", "anh@example.org", "x")
    client.force_login(user)
    return client


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def vi(message: str, **params) -> str:
    with translation.override("vi"):
        text = translation.gettext(message)
    assert text != message, f"no Vietnamese for {message!r}"
    return text % params if params else text


# --- pictures, made here ----------------------------------------------------------------


def photo(*, size=(400, 200), fmt="JPEG", gps=True, orientation=None, **save) -> bytes:
    """A photo whose left half is red and right half blue, with a phone's GPS position
    (Hội An, written with Pillow's Exif API) and optionally an EXIF orientation."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x010F] = "NguonPhone"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {
            1: "N",
            2: (15.0, 52.0, 48.6),
            3: "E",
            4: (108.0, 19.0, 40.2),
        }
    buf = io.BytesIO()
    image.save(buf, format=fmt, exif=exif, **save)
    return buf.getvalue()


def gps_of(path_or_bytes) -> dict:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring ``width`` × ``height`` 1-bit pixels, with one compressed row:
    a few hundred bytes that would need gigabytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * ((width + 7) // 8), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def small(fmt="JPEG", size=(64, 48), **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(buf, format=fmt, **save)
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("shell.php", "<?php echo 1; ?>")
    return buf.getvalue()


def gif_animation(frames: int) -> bytes:
    # Every frame differs (Pillow merges identical neighbours into one).
    pictures = [Image.new("RGB", (2, 2), (i % 256, i // 256, 90)) for i in range(frames)]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=20)
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert check.n_frames == frames
    return data


def gif_large_frames(frames: int, size=(2000, 2000)) -> bytes:
    pictures = [Image.new("P", size, i + 1) for i in range(frames)]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=50)
    return buf.getvalue()


SVG_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)

# (id, bytes, file name, message, its parameters)
REFUSED = [
    ("bomb-50000x50000-png", lambda: png_header_only(50_000, 50_000), "bom.png", BOMB, {}),
    ("side-over-12000", lambda: png_header_only(12_001, 10), "dai.png", SIDE,
     {"width": 12001, "height": 10, "limit": 12000}),
    ("64-megapixels", lambda: png_header_only(8_000, 8_000), "lon.png", BOMB, {}),
    ("jpeg-plus-zip", lambda: small() + zip_bytes(), "anh.jpg", ACTIVE, {}),
    ("png-plus-zip", lambda: small("PNG") + zip_bytes(), "anh.png", ACTIVE, {}),
    ("jpeg-plus-php", lambda: small() + b"<?php system($_GET['c']); ?>", "anh.jpg", ACTIVE, {}),
    ("jpeg-plus-html", lambda: small() + b"<html><body>x</body></html>", "anh.jpg", ACTIVE, {}),
    ("jpeg-comment-script", lambda: small(comment=b"<script>alert(1)</script>"), "anh.jpg",
     ACTIVE, {}),
    ("gif-that-is-html",
     lambda: small("GIF", comment=b"<!DOCTYPE html><img src=x onerror=alert(1)>"), "anh.gif",
     ACTIVE, {}),
    ("html-renamed-jpg", lambda: b"<!doctype html><p>Xin chao</p>" * 20, "anh.jpg", ACTIVE, {}),
    ("svg-script-renamed-jpg", lambda: SVG_SCRIPT, "anh.jpg", ACTIVE, {}),
    ("svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9"/></svg>', "logo.svg",
     FORMAT, {}),
    ("png-named-jpg", lambda: small("PNG"), "anh.jpg", MISMATCH,
     {"format": "PNG", "extension": "jpg"}),
    ("jpeg-named-png", lambda: small(), "anh.png", MISMATCH,
     {"format": "JPEG", "extension": "png"}),
    ("truncated-jpeg", lambda: photo(size=(640, 480))[:1500], "anh.jpg", DAMAGED, {}),
    ("corrupt-png", lambda: small("PNG")[:60] + b"\x00" * 200, "anh.png", DAMAGED, {}),
    ("bmp", lambda: small("BMP"), "anh.jpg", FORMAT, {}),
    ("gif-13-frames-of-4-megapixels", lambda: gif_large_frames(13), "dong.gif", BOMB, {}),
    ("gif-2000-frames", lambda: gif_animation(2000), "dong.gif", FRAMES,
     {"limit": 200}),
]  # fmt: skip


def root_collection() -> Collection:
    return Collection.get_first_root_node()


def add_form(data: bytes, name: str, *, description="Cầu Bến Lức lúc hoàng hôn") -> dict:
    return {
        "title": "Ảnh thử",
        "file": make_upload(data, name=name),
        "description": description,
        "collection": root_collection().pk,
        "tags": "",
    }


# --- the add page -----------------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "message", "params"),
                         [pytest.param(*case[1:], id=case[0]) for case in REFUSED])  # fmt: skip
def test_a_hostile_upload_is_refused_in_vietnamese_and_nothing_is_stored(
    admin_client, media_root, data, name, message, params
):
    response = admin_client.post(reverse("wagtailimages:add"), add_form(data(), name))

    assert response.status_code == 200  # the form again
    assert html.escape(vi(message, **params)) in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert get_image_model().objects.count() == 0
    assert stored_files(media_root) == []


def test_a_picture_without_alt_text_is_refused_with_a_message(admin_client, media_root):
    response = admin_client.post(
        reverse("wagtailimages:add"), add_form(photo(), "cau.jpg", description="   ")
    )

    assert response.status_code == 200
    assert html.escape(vi(ALT_REQUIRED)) in response.content.decode()
    assert get_image_model().objects.count() == 0
    assert stored_files(media_root) == []


def test_the_alt_text_field_says_what_to_write_in_vietnamese(admin_client):
    page = admin_client.get(reverse("wagtailimages:add")).content.decode()

    assert html.escape(vi("Alt text (what the picture shows)")) in page
    assert "Công nhân lắp dầm cuối cùng lên cầu Bến Lức" in page  # the example in the help
    (field,) = re.findall(r"<input[^>]*name=\"description\"[^>]*>", page)
    assert re.search(r"\srequired[\s>=]", field), field  # the browser asks before sending


def test_a_phone_photo_is_stored_without_gps_and_upright_and_so_are_its_renditions(
    admin_client, media_root
):
    # Stored sideways with "rotate 90° clockwise to show" (orientation 6), as phones do.
    original = photo(size=(400, 200), orientation=6)
    assert gps_of(original)[2] == (15.0, 52.0, 48.6)  # the fixture really carries GPS

    response = admin_client.post(reverse("wagtailimages:add"), add_form(original, "hoi-an.jpg"))

    assert response.status_code == 302, response.content.decode()[:2000]
    image = get_image_model().objects.get()
    assert image.description == "Cầu Bến Lức lúc hoàng hôn"
    stored = Path(image.file.path)
    assert stored.parent.name == "original_images"  # served as /media/original_images/…
    raw = stored.read_bytes()
    assert gps_of(raw) == {}
    assert b"GPS" not in raw and b"NguonPhone" not in raw  # no EXIF left at all
    with Image.open(stored) as kept:
        assert kept.format == "JPEG"
        assert kept.size == (200, 400)  # the orientation applied to the pixels
        assert ORIENTATION not in kept.getexif()
        assert kept.getpixel((100, 20))[0] > 150  # the red half is on top
        assert kept.getpixel((100, 380))[2] > 150  # the blue half below
    assert (image.width, image.height) == (200, 400)

    for spec, fmt in (("width-100|format-jpeg", "JPEG"), ("width-100|format-webp", "WEBP")):
        rendition = image.get_rendition(spec)
        data = Path(rendition.file.path).read_bytes()
        with Image.open(io.BytesIO(data)) as shown:
            assert shown.format == fmt
            assert shown.size == (100, 200)  # upright
            assert shown.getpixel((50, 10))[0] > 150 and shown.getpixel((50, 190))[2] > 150
        assert gps_of(data) == {}
        assert b"GPS" not in data


@pytest.mark.parametrize(
    ("fmt", "name", "stored_format"),
    [("PNG", "so-do.png", "PNG"), ("WEBP", "anh.webp", "WEBP"), ("HEIF", "IMG_0001.HEIC", "JPEG"),
     ("AVIF", "anh.avif", "JPEG")],
)  # fmt: skip
def test_other_formats_are_rebuilt_without_gps(admin_client, media_root, fmt, name, stored_format):
    response = admin_client.post(reverse("wagtailimages:add"), add_form(photo(fmt=fmt), name))

    assert response.status_code == 302, response.content.decode()[:2000]
    image = get_image_model().objects.get()
    raw = Path(image.file.path).read_bytes()
    assert gps_of(raw) == {}
    with Image.open(io.BytesIO(raw)) as kept:
        assert kept.format == stored_format
        assert kept.size == (400, 200)
    if stored_format == "JPEG" and fmt != "JPEG":
        assert image.file.name.endswith(".jpg")  # HEIC and AVIF are stored as JPEG


def test_a_short_animation_keeps_its_frames(admin_client, media_root):
    response = admin_client.post(
        reverse("wagtailimages:add"), add_form(gif_animation(12), "dong.gif")
    )

    assert response.status_code == 302
    image = get_image_model().objects.get()
    with Image.open(image.file.path) as kept:
        assert kept.format == "GIF"
        assert sum(1 for _ in ImageSequence.Iterator(kept)) == 12


# --- the chooser's upload tab -----------------------------------------------------------


def chooser_post(client, data: bytes, name: str, *, description="Chợ nổi Cái Răng"):
    form = add_form(data, name, description=description)
    payload = {f"image-chooser-upload-{key}": value for key, value in form.items()}
    response = client.post(reverse("wagtailimages_chooser:create"), payload)
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_chooser_upload_tab_stores_a_described_picture_without_gps(admin_client, media_root):
    answer = chooser_post(admin_client, photo(), "cho-noi.jpg")

    assert answer["step"] == "chosen", answer
    image = get_image_model().objects.get()
    assert image.description == "Chợ nổi Cái Răng"
    assert gps_of(image.file.path) == {}


@pytest.mark.parametrize(
    ("data", "name", "description", "message"),
    [
        (photo, "cho-noi.jpg", "", ALT_REQUIRED),
        (lambda: small() + zip_bytes(), "anh.jpg", "Chợ nổi", ACTIVE),
        (lambda: png_header_only(50_000, 50_000), "bom.png", "Chợ nổi", BOMB),
    ],
    ids=["no-alt-text", "jpeg-plus-zip", "bomb"],
)
def test_the_chooser_upload_tab_refuses_in_vietnamese(
    admin_client, media_root, data, name, description, message
):
    answer = chooser_post(admin_client, data(), name, description=description)

    assert answer["step"] != "chosen"
    assert html.escape(vi(message)) in answer["htmlFragment"]
    assert get_image_model().objects.count() == 0
    assert stored_files(media_root) == []


# --- the multiple upload ----------------------------------------------------------------


def test_the_multiple_upload_asks_for_alt_text_and_parks_the_file_without_gps(
    admin_client, media_root
):
    page = admin_client.get(reverse("wagtailimages:add_multiple"))
    assert page.status_code == 200
    text = html.unescape(page.content.decode()).replace("\xa0", " ")
    assert "30,0 MB" in text  # our limit, not Wagtail's 10 MB
    response = admin_client.post(
        reverse("wagtailimages:add_multiple"),
        {"files[]": make_upload(photo(), name="le-hoi.jpg"), "collection": root_collection().pk},
    )
    answer = json.loads(response.content)

    # Alt text is required, so Wagtail parks the file as an "uploaded image" and asks for it.
    assert answer["success"] is True and "uploaded_file_id" in answer, answer
    assert f'name="uploaded-image-{answer["uploaded_file_id"]}-description"' in answer["form"]
    assert get_image_model().objects.count() == 0
    upload = UploadedFile.objects.get(pk=answer["uploaded_file_id"])
    assert gps_of(upload.file.path) == {}  # even the parked file (under MEDIA_ROOT) has none

    url = reverse("wagtailimages:create_multiple_from_uploaded_image", args=[upload.pk])
    prefix = f"uploaded-image-{upload.pk}"
    fields = {f"{prefix}-title": "Lễ hội", f"{prefix}-collection": root_collection().pk}
    refused = json.loads(admin_client.post(url, {**fields, f"{prefix}-description": ""}).content)
    assert refused["success"] is False
    assert html.escape(vi(ALT_REQUIRED)) in refused["form"]
    assert get_image_model().objects.count() == 0

    done = json.loads(
        admin_client.post(url, {**fields, f"{prefix}-description": "Múa lân ở phố cổ"}).content
    )
    assert done["success"] is True, done
    image = get_image_model().objects.get()
    assert image.description == "Múa lân ở phố cổ"
    assert gps_of(image.file.path) == {}
    assert not UploadedFile.objects.exists()


@pytest.mark.parametrize(("data", "name", "message", "params"),
                         [pytest.param(*case[1:], id=case[0]) for case in REFUSED
                          if case[0] in ("bomb-50000x50000-png", "jpeg-plus-zip", "png-named-jpg",
                                         "gif-2000-frames", "truncated-jpeg")])  # fmt: skip
def test_the_multiple_upload_refuses_in_vietnamese_and_parks_nothing(
    admin_client, media_root, data, name, message, params
):
    response = admin_client.post(
        reverse("wagtailimages:add_multiple"),
        {"files[]": make_upload(data(), name=name), "collection": root_collection().pk},
    )
    answer = json.loads(response.content)

    assert answer["success"] is False
    assert answer["error_message"] == vi(message, **params)
    assert not UploadedFile.objects.exists()
    assert get_image_model().objects.count() == 0
    assert stored_files(media_root) == []


# --- the edit page ------------------------------------------------------------------------


def test_editing_a_picture_keeps_asking_for_alt_text_and_checks_a_replacement_file(
    admin_client, media_root
):
    admin_client.post(reverse("wagtailimages:add"), add_form(photo(), "cau.jpg"))
    image = get_image_model().objects.get()
    url = reverse("wagtailimages:edit", args=[image.pk])
    fields = {"title": "Cầu mới", "collection": root_collection().pk, "tags": ""}

    refused = admin_client.post(url, {**fields, "description": ""})
    assert refused.status_code == 200
    assert html.escape(vi(ALT_REQUIRED)) in refused.content.decode()

    hostile = admin_client.post(
        url,
        {
            **fields,
            "description": "Cầu mới",
            "file": make_upload(small() + zip_bytes(), name="b.jpg"),
        },
    )
    assert hostile.status_code == 200
    assert html.escape(vi(ACTIVE)) in hostile.content.decode()

    replaced = admin_client.post(
        url, {**fields, "description": "Cầu mới", "file": make_upload(photo(), name="moi.jpg")}
    )
    assert replaced.status_code == 302
    image.refresh_from_db()
    assert image.title == "Cầu mới" and gps_of(image.file.path) == {}
    assert len(stored_files(media_root / "original_images")) == 1  # the old file is gone


# --- pictures stored before this check ------------------------------------------------------


def test_pictures_stored_before_are_rebuilt_and_their_renditions_lose_gps(
    media_root, django_capture_on_commit_callbacks
):
    from django.core.files.images import ImageFile
    from django.core.management import call_command

    # Stored the old way (in code, no form): Willow copies its EXIF into every rendition.
    legacy = get_image_model().objects.create(
        title="Ảnh cũ",
        description="Phố cổ Hội An",
        file=ImageFile(io.BytesIO(photo(size=(400, 200), orientation=6)), name="cu.jpg"),
    )
    old_file = Path(legacy.file.path)
    leaked = Path(legacy.get_rendition("width-100|format-jpeg").file.path).read_bytes()
    assert gps_of(leaked) != {}  # the problem this command exists for
    clean = get_image_model().objects.create(
        title="Sạch",
        description="Sơ đồ",
        file=ImageFile(io.BytesIO(small("PNG")), name="so-do.png"),
    )

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("images_rebuild", stdout=out)

    assert out.getvalue().strip() == "rebuilt 1, already clean 1, failed 0"
    legacy.refresh_from_db()
    assert not old_file.exists()
    assert gps_of(legacy.file.path) == {}
    assert (legacy.width, legacy.height) == (200, 400)  # upright now
    for spec in ("width-100|format-jpeg", "width-100|format-webp"):
        data = Path(legacy.get_rendition(spec).file.path).read_bytes()
        assert gps_of(data) == {}
        with Image.open(io.BytesIO(data)) as shown:
            assert shown.size == (100, 200)
    clean.refresh_from_db()
    assert clean.file.name.endswith("so-do.png")


def test_a_photo_large_enough_to_be_spooled_to_disk_is_rebuilt_too(
    admin_client, media_root, settings
):
    # Over FILE_UPLOAD_MAX_MEMORY_SIZE Django keeps the upload in a temporary file (a real
    # phone photo does): the rebuild must rewrite that file, not a copy in memory.
    import random

    rng = random.Random(16)
    grain = Image.frombytes("RGB", (2000, 1500), rng.randbytes(2000 * 1500 * 3))
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (15.0, 52.0, 48.6), 3: "E", 4: (108.0, 19.0, 40.2)}
    buf = io.BytesIO()
    grain.save(buf, format="JPEG", quality=95, exif=exif)
    data = buf.getvalue()
    assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE and gps_of(data) != {}

    response = admin_client.post(reverse("wagtailimages:add"), add_form(data, "lon.jpg"))

    assert response.status_code == 302, response.content.decode()[:2000]
    image = get_image_model().objects.get()
    raw = Path(image.file.path).read_bytes()
    assert gps_of(raw) == {} and b"GPS" not in raw
    assert image.file_size == len(raw)
