"""Still images, checked by content and rebuilt from their pixels.

``probe_image`` decides whether an upload is a picture we accept: an accepted format (by
content, and matching its name when a name is given), within the size limits read from the
header before any pixel is decoded, with a bounded number of frames, fully decodable, and
carrying nothing a browser or a server could run (markup, script, PHP, an archive).

``normalise_image`` rebuilds an accepted picture from its decoded pixels: the orientation
its camera recorded is applied to the pixels, and nothing but the pixels and the colour
profile is written back (no EXIF, GPS, XMP, IPTC, comments, text chunks or trailing data).
The image library and media assets store only that rebuilt file.

HEIC needs ``pillow-heif`` (a dependency); its opener is registered when the app loads, so
Wagtail's image library (through Willow) reads HEIC too. AVIF is read by Pillow itself.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import asdict, dataclass

from PIL import Image, ImageOps, ImageSequence, JpegImagePlugin

# Media assets (``asset_create(kind="image")``): the formats a still may be, and its suffix.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}
# The image library (Wagtail's images): animated GIF and AVIF as well. MPO is how Pillow
# names a phone's JPEG that carries a second, hidden picture (depth map, preview).
LIBRARY_FORMATS = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "HEIF": "heic",
    "AVIF": "avif",
}
# What a file name's extension promises about its content.
EXTENSION_FORMATS = {
    "jpg": {"JPEG", "MPO"},
    "jpeg": {"JPEG", "MPO"},
    "png": {"PNG"},
    "webp": {"WEBP"},
    "gif": {"GIF"},
    "heic": {"HEIF"},
    "heif": {"HEIF"},
    "avif": {"AVIF"},
}
# Formats that may be animated (every frame is decoded, checked and kept).
ANIMATED_FORMATS = {"GIF", "WEBP", "PNG"}
# What makes a file something else besides a picture: a web page or script a browser would
# run if it ever sniffed the file as HTML, PHP a misconfigured server would run. Compressed
# pixels are close to random, so every signature is long enough (six fixed bytes or more,
# or a tag holding an event handler) that pixels match it about once in 10^5 large photos
# or less; camera metadata (EXIF, XMP, ICC) never holds these. Shorter ones (PHP's "<?=",
# a bare "<svg") would refuse real photos; their payload is gone anyway once the picture
# is rebuilt from its pixels (``normalise_image``).
# Matched on the lower-cased bytes: fixed signatures first (a substring search, fast), the
# pattern only where one of them occurs; then tags holding an event handler.
_MARKUP_SIGNATURES = (b"<script", b"<iframe", b"<object", b"<embed", b"<html", b"<body",
                      b"<!doctype", b"<?php", b"javascript:")  # fmt: skip
_MARKUP = re.compile(
    rb"<(?:script|iframe|object|embed|html|body)[\s/>]|<!doctype\s+html|<\?php|javascript:"
)
_EVENT_HANDLER = re.compile(rb"<[a-z][a-z0-9]{0,9}[\s/][^<>]{0,256}?[\s/\"']on[a-z]{3,20}\s*=")
# A ZIP archive (or JAR, DOCX, APK) is read from its end-of-central-directory record: 22
# bytes plus a comment, which must end exactly at the end of the file.
_ZIP_END = b"PK\x05\x06"
_SCAN_CHUNK = 1024 * 1024


class ImageError(Exception):
    """Not an accepted image, damaged, too big, or more than a picture."""

    # "format": not an accepted format; "mismatch": the name's extension says another
    # format; "damaged": does not decode; "bomb": too many pixels; "dimensions": a side
    # over the limit; "frames": too many frames; "active": markup, script or an archive.
    def __init__(self, message: str, *, reason: str, **details):
        super().__init__(message)
        self.reason = reason
        self.details = details


@dataclass
class ImageProbe:
    format: str
    width: int
    height: int
    mode: str
    frames: int = 1
    formats: dict | None = None

    @property
    def suffix(self) -> str:
        return (self.formats or LIBRARY_FORMATS)[self.format]

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("formats")
        return {**data, "container": self.format.lower()}


def register_heif() -> bool:
    """Teach Pillow to open HEIC/HEIF; False when pillow-heif is not installed."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - it is a dependency
        return False
    register_heif_opener()
    return True


def name_extension(name: str) -> str:
    return os.path.splitext(name or "")[1].lower().lstrip(".")


def find_active_markup(data: bytes) -> bytes | None:
    """The first markup, script or PHP signature in ``data`` (any case), or None."""
    low = data.lower()
    if any(signature in low for signature in _MARKUP_SIGNATURES):
        if match := _MARKUP.search(low):
            return match.group(0)
    if match := _EVENT_HANDLER.search(low):
        return match.group(0)
    return None


def scan_for_active_content(fileobj) -> None:
    """Raise ImageError("active") if the bytes hold markup, script, PHP or a ZIP archive.

    Read in 1 MB chunks overlapping by 300 bytes, so a signature across two chunks is seen.
    """
    fileobj.seek(0)
    tail = b""
    last = b""
    while chunk := fileobj.read(_SCAN_CHUNK):
        window = tail + chunk
        if found := find_active_markup(window):
            raise ImageError(f"markup {found[:20]!r}", reason="active")
        tail = window[-300:]
        last = (last + chunk)[-(65535 + 22) :]
    # A ZIP's end record sits in the last 64 KB, its comment length reaching the end.
    start = 0
    while (at := last.find(_ZIP_END, start)) >= 0:
        if at + 22 <= len(last):
            comment_length = int.from_bytes(last[at + 20 : at + 22], "little")
            if at + 22 + comment_length == len(last):
                raise ImageError("a ZIP archive is appended", reason="active")
        start = at + 1
    fileobj.seek(0)


def _count_frames(image: Image.Image, *, max_frames: int | None, max_pixels: int | None) -> int:
    """The frames of an animation, refused past ``max_frames`` or past ``max_pixels`` for
    all frames together. WebP and APNG declare their count; a GIF is walked frame by frame,
    never further than the limits allow (a 30 MB GIF can hold a million tiny frames)."""
    if image.format not in ANIMATED_FORMATS:
        return 1  # MPO's second picture and HEIF's other images are not shown: only the first
    width, height = image.size
    limit = max_frames or 10**9
    if max_pixels:
        limit = min(limit, max(1, max_pixels // max(1, width * height)))
    if image.format == "GIF":
        frames = 1
        try:
            while frames <= limit:
                image.seek(frames)
                frames += 1
        except EOFError:
            pass
        image.seek(0)
    else:
        frames = getattr(image, "n_frames", 1)
    if frames > limit:
        if max_frames and frames > max_frames:
            raise ImageError(f"over {max_frames} frames", reason="frames")
        raise ImageError(f"{width}x{height}, over {frames - 1} frames", reason="bomb")
    return frames


def probe_image(
    fileobj,
    *,
    max_pixels: int | None = None,
    max_side: int | None = None,
    max_frames: int | None = None,
    formats: dict | None = None,
    name: str | None = None,
) -> ImageProbe:
    """Open and fully decode an image; raise ImageError unless it is a picture we accept.

    Checked in this order, the cheap ones first: the name's extension (when ``name`` is
    given: an ``.svg`` is refused before its bytes are read); active content in the
    bytes; the format (by content) among ``formats`` and, when ``name`` is given, the one
    its extension promises; from the header, before any pixel is decoded, each side against
    ``max_side`` and the pixels of all frames against ``max_pixels`` (Pillow's own
    ``MAX_IMAGE_PIXELS`` guard is an error here, not a warning); then every frame is
    decoded, so a truncated or corrupt file fails.
    """
    formats = formats or ACCEPTED_FORMATS
    if name is not None and name_extension(name) not in EXTENSION_FORMATS:
        raise ImageError(f"extension of {name!r} not accepted", reason="format")
    scan_for_active_content(fileobj)
    fileobj.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fileobj) as image:
                fmt = image.format or ""
                if fmt not in formats:
                    raise ImageError(f"format {fmt or 'unknown'} not accepted", reason="format")
                if name is not None and fmt not in EXTENSION_FORMATS.get(
                    name_extension(name), set()
                ):
                    raise ImageError(
                        f"{fmt} named {name!r}", reason="mismatch", format=fmt, name=name
                    )
                (width, height), mode = image.size, image.mode
                if max_side and max(width, height) > max_side:
                    raise ImageError(
                        f"{width}x{height} pixels",
                        reason="dimensions",
                        width=width,
                        height=height,
                    )
                if max_pixels and width * height > max_pixels:
                    raise ImageError(f"{width}x{height} pixels", reason="bomb")
                frames = _count_frames(image, max_frames=max_frames, max_pixels=max_pixels)
                for _frame in ImageSequence.Iterator(image):
                    image.load()  # decodes every pixel: truncated files fail here
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(str(exc), reason="bomb") from exc
    except Exception as exc:  # hostile input must never escape as a crash
        raise ImageError(f"{type(exc).__name__}: {exc}", reason="damaged") from exc
    finally:
        fileobj.seek(0)
    return ImageProbe(
        format=fmt, width=width, height=height, mode=mode, frames=frames, formats=formats
    )


@dataclass
class NormalisedImage:
    data: bytes
    format: str  # the Pillow format written: JPEG, PNG, WEBP or GIF
    suffix: str
    width: int
    height: int
    mode: str
    frames: int


def _webp_is_lossless(fileobj) -> bool:
    fileobj.seek(0)
    head = fileobj.read(64 * 1024)
    fileobj.seek(0)
    return b"VP8L" in head and b"VP8 " not in head


def _jpeg_options(source: Image.Image) -> dict:
    """Re-use the camera's own quantisation tables and chroma subsampling, so the rebuilt
    JPEG is as good (and about as big) as the one the reporter sent."""
    if source.format not in ("JPEG", "MPO") or not getattr(source, "quantization", None):
        return {"quality": 90}
    options: dict = {"qtables": source.quantization}
    sampling = JpegImagePlugin.get_sampling(source)
    if sampling != -1:
        options["subsampling"] = sampling
    return options


def _clean(image: Image.Image, *, keep: tuple[str, ...] = ()) -> Image.Image:
    """The same pixels with no metadata left in ``info`` (Pillow writes some of it back)."""
    info = {key: image.info[key] for key in keep if key in image.info}
    image.info = info
    return image


def normalise_image(fileobj) -> NormalisedImage:
    """Rebuild an accepted image (``probe_image`` first) from its decoded pixels.

    Still pictures get their recorded orientation applied and are written in their own
    format (JPEG with its own quantisation tables, PNG losslessly, WebP lossless if it was,
    else at quality 90), HEIC and AVIF as JPEG (or PNG when they have transparency), since
    browsers do not all show them. Animated GIF, WebP and PNG keep every frame and its
    duration. Only the colour profile travels with the pixels.
    """
    fileobj.seek(0)
    out = io.BytesIO()
    with Image.open(fileobj) as source:
        fmt = "JPEG" if source.format == "MPO" else source.format
        icc = source.info.get("icc_profile")
        frames = getattr(source, "n_frames", 1) if fmt in ANIMATED_FORMATS else 1
        if frames > 1:
            pictures, durations = [], []
            for frame in ImageSequence.Iterator(source):
                durations.append(frame.info.get("duration", 100))
                pictures.append(_clean(frame.copy(), keep=("transparency",)))
            options: dict = {
                "save_all": True,
                "append_images": pictures[1:],
                "duration": durations,
                "loop": source.info.get("loop", 0),
            }
            if fmt == "WEBP":
                options["lossless"] = _webp_is_lossless(fileobj)
                options["quality"] = 90
            if fmt == "GIF":
                options["disposal"] = 2
            image = pictures[0]
        else:
            source.load()
            image = ImageOps.exif_transpose(source)  # the camera's orientation, applied
            options = {}
            if fmt in ("HEIF", "AVIF"):
                has_alpha = "A" in image.getbands() or "transparency" in image.info
                fmt = "PNG" if has_alpha else "JPEG"
                options = {"quality": 90}
                if fmt == "JPEG" and image.mode != "RGB":
                    image = image.convert("RGB")
            elif fmt == "JPEG":
                options = _jpeg_options(source)
            elif fmt == "WEBP":
                options = {"lossless": _webp_is_lossless(fileobj), "quality": 90}
            image = _clean(image, keep=("transparency",) if fmt in ("PNG", "GIF") else ())
        if icc and fmt != "GIF":
            options["icc_profile"] = icc
        image.save(out, format=fmt, **options)
    fileobj.seek(0)
    suffix = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}[fmt]
    return NormalisedImage(
        data=out.getvalue(),
        format=fmt,
        suffix=suffix,
        width=image.size[0],
        height=image.size[1],
        mode=image.mode,
        frames=frames,
    )


# Where Pillow puts what a picture carries besides its pixels (PNG text chunks land in
# ``info`` under their own keywords and are caught by ``image.text``).
_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")


def image_has_metadata(fileobj) -> bool:
    """True when the picture carries EXIF (GPS included), XMP, IPTC, comments or text."""
    fileobj.seek(0)
    try:
        with Image.open(fileobj) as image:
            if image.getexif() or any(key in image.info for key in _METADATA_KEYS):
                return True
            return bool(getattr(image, "text", None))
    finally:
        fileobj.seek(0)
