"""Properties of the picture check, over generated input: whatever bytes arrive, the answer
is a Vietnamese refusal or a clean picture — never a crash, never GPS, never markup."""

import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from media.images import LIBRARY_FORMATS, find_active_markup, scan_for_active_content
from media.services import image_normalise_upload
from tests.factories import make_upload

GPS_IFD = 0x8825
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


def picture(fmt: str, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (21.0, 1.0, 42.0), 3: "E", 4: (105.0, 51.0, 3.0)}
    buf = io.BytesIO()
    image.save(buf, format=fmt, exif=exif)
    return buf.getvalue()


pictures = st.builds(
    lambda fmt, w, h, colour: (fmt, picture(fmt, (w, h), colour)),
    st.sampled_from(sorted(FORMATS)),
    st.integers(1, 300),
    st.integers(1, 300),
    st.tuples(*[st.integers(0, 255)] * 3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=pictures,
    cut=st.integers(0, 4000),
    junk=st.binary(max_size=600),
    where=st.sampled_from(["append", "replace_tail", "insert", "prefix"]),
)
def test_any_damaged_or_padded_picture_is_refused_in_vietnamese_or_stored_clean(
    source, cut, junk, where
):
    fmt, data = source
    if where == "append":
        data = data + junk
    elif where == "replace_tail":
        data = data[: max(8, len(data) - cut % len(data))] + junk
    elif where == "insert":
        at = cut % len(data)
        data = data[:at] + junk + data[at:]
    else:
        data = junk + data
    upload = make_upload(data, name=f"anh.{FORMATS[fmt]}")
    with translation.override("vi"):
        try:
            probe = image_normalise_upload(upload=upload, formats=LIBRARY_FORMATS, check_name=True)
        except ValidationError as exc:
            (message,) = exc.messages
            assert message.isascii() is False  # Vietnamese, never an English exception text
            return
    upload.seek(0)
    clean = upload.read()
    assert len(clean) == upload.size
    assert find_active_markup(clean) is None
    with Image.open(io.BytesIO(clean)) as stored:
        stored.load()
        assert stored.size == (probe.width, probe.height)
        assert dict(stored.getexif().get_ifd(GPS_IFD)) == {}
        assert "exif" not in stored.info and "xmp" not in stored.info


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=1, max_size=5000), name=st.sampled_from(["a.jpg", "a.png", "a.gif"]))
def test_arbitrary_bytes_are_refused_without_a_crash(data, name):
    with translation.override("vi"), pytest.raises(ValidationError):
        image_normalise_upload(upload=make_upload(data, name=name), formats=LIBRARY_FORMATS,
                               check_name=True)  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_the_markup_scan_does_not_refuse_real_photo_bytes(seed):
    # A JPEG of noise at quality 95: over 2 MB of entropy-coded data, like a camera's.
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", (1800, 1200), rng.randbytes(1800 * 1200 * 3))
    buf = io.BytesIO()
    noise.save(buf, format="JPEG", quality=95)
    assert buf.tell() > 2_000_000
    scan_for_active_content(buf)  # raises ImageError on a match
