"""Still images: JPEG, PNG, WebP and HEIC (the iPhone default), checked by content.

HEIC needs ``pillow-heif`` (a dependency); its opener is registered when the app loads, so
Wagtail's image library (through Willow) accepts HEIC uploads as well.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

from PIL import Image

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}


class ImageError(Exception):
    """Not an accepted image, damaged, or a decompression bomb."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason  # "format", "damaged" or "bomb"


@dataclass
class ImageProbe:
    format: str
    width: int
    height: int
    mode: str

    @property
    def suffix(self) -> str:
        return ACCEPTED_FORMATS[self.format]

    def as_dict(self) -> dict:
        return {**asdict(self), "container": self.format.lower()}


def register_heif() -> bool:
    """Teach Pillow to open HEIC/HEIF; False when pillow-heif is not installed."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - it is a dependency
        return False
    register_heif_opener()
    return True


def probe_image(fileobj, *, max_pixels: int | None = None) -> ImageProbe:
    """Open and fully decode an image. Pillow's ``MAX_IMAGE_PIXELS`` (Wagtail sets
    ``WAGTAILIMAGES_MAX_IMAGE_PIXELS`` for its own uploads) bounds the pixel count: twice
    over it Pillow refuses outright; above it a warning is treated as a refusal too; and
    ``max_pixels`` is checked from the header, before any pixel is decoded."""
    fileobj.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fileobj) as image:
                fmt = image.format or ""
                if fmt not in ACCEPTED_FORMATS:
                    raise ImageError(f"format {fmt or 'unknown'} not accepted", reason="format")
                size, mode = image.size, image.mode
                if max_pixels and size[0] * size[1] > max_pixels:
                    raise ImageError(f"{size[0]}x{size[1]} pixels", reason="bomb")
                image.load()  # decodes every pixel: truncated files fail here
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(str(exc), reason="bomb") from exc
    except Exception as exc:  # hostile input must never escape as a crash
        raise ImageError(f"{type(exc).__name__}: {exc}", reason="damaged") from exc
    finally:
        fileobj.seek(0)
    return ImageProbe(format=fmt, width=size[0], height=size[1], mode=mode)
