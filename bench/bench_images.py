"""Picture benchmark: what checking and rebuilding a 12-megapixel phone photo costs.

Run:  .venv/bin/python bench/bench_images.py [--repeat 7] [--megapixels 12]

The source is photo-like (smooth colour fields upscaled from a small random picture, plus
sensor grain), 4000 × 3000, JPEG quality 92 with 4:2:0 chroma (a phone's setting), with
EXIF GPS; once stored upright and once sideways with EXIF orientation 6. Each row is the
median wall time of ``--repeat`` runs in this process:

* scan — ``media.images.scan_for_active_content`` (markup, script, PHP, ZIP signatures);
* probe — ``probe_image``: the scan, the header checks and a full decode;
* rebuild — ``normalise_image``: decode, orientation applied, re-encode with the source's
  own quantisation tables and subsampling, no metadata;
* upload — ``image_normalise_upload`` on an in-memory upload, what the library form runs
  (probe + rebuild + rewriting the upload).

Then the cost in quality and size of the rebuild chosen (the camera's own tables) against a
plain quality-90 re-encode: PSNR of the decoded pixels against the source's decoded pixels,
and the file size. Peak RSS is this process's maximum resident size at the end.
"""

import argparse
import io
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()


def photo(megapixels: float, *, orientation: int | None) -> bytes:
    from PIL import Image

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    import random

    rng = random.Random(7)
    base = Image.frombytes("RGB", (40, 30), rng.randbytes(40 * 30 * 3))
    image = base.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 60).convert("RGB")
    image = Image.blend(image, grain, 0.35)
    exif = Image.Exif()
    exif[0x010F] = "Bench"
    exif[0x8825] = {1: "N", 2: (10.0, 46.0, 30.0), 3: "E", 4: (106.0, 40.0, 12.0)}
    if orientation:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=92, subsampling=2, exif=exif)
    return buf.getvalue()


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def psnr(a, b) -> float:
    from PIL import ImageChops, ImageStat

    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    mse = sum(v**2 for v in ImageStat.Stat(diff).rms) / 3
    import math

    return float("inf") if mse == 0 else 20 * math.log10(255 / math.sqrt(mse))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args()
    setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from media.images import (
        LIBRARY_FORMATS,
        normalise_image,
        probe_image,
        scan_for_active_content,
    )
    from media.services import image_normalise_upload

    rows = []
    for orientation in (None, 6):
        data = photo(args.megapixels, orientation=orientation)
        with Image.open(io.BytesIO(data)) as check:
            size = check.size

        def upload(data=data):
            image_normalise_upload(
                upload=SimpleUploadedFile("anh.jpg", data),
                formats=LIBRARY_FORMATS,
                check_name=True,
            )

        label = f"{size[0]}×{size[1]} JPEG q92 {len(data) / 1e6:.1f} MB, "
        label += f"orientation {orientation or 1}"
        steps = {
            "scan": lambda data=data: scan_for_active_content(io.BytesIO(data)),
            "probe": lambda data=data: probe_image(io.BytesIO(data), formats=LIBRARY_FORMATS),
            "rebuild": lambda data=data: normalise_image(io.BytesIO(data)),
            "upload (probe + rebuild)": upload,
        }
        for step, fn in steps.items():
            rows.append((label, step, timed(fn, args.repeat)))
    print("| source | step | median wall (s) |")
    print("| --- | --- | ---: |")
    for label, step, seconds in rows:
        print(f"| {label} | {step} | {seconds:.3f} |")

    data = photo(args.megapixels, orientation=None)
    source = Image.open(io.BytesIO(data))
    source.load()
    rebuilt = normalise_image(io.BytesIO(data)).data
    plain = io.BytesIO()
    source.save(plain, format="JPEG", quality=90)
    print()
    print("| re-encode | size (MB) | PSNR vs source (dB) |")
    print("| --- | ---: | ---: |")
    print(f"| source (camera, q92) | {len(data) / 1e6:.2f} | — |")
    for name, blob in (
        ("rebuild (source tables)", rebuilt),
        ("plain quality 90", plain.getvalue()),
    ):
        with Image.open(io.BytesIO(blob)) as again:
            print(f"| {name} | {len(blob) / 1e6:.2f} | {psnr(source, again):.1f} |")
    print()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB; load average {os.getloadavg()[0]:.2f}; "
          f"{time.strftime('%d/%m/%Y %H:%M UTC', time.gmtime())}")  # fmt: skip


if __name__ == "__main__":
    main()


def unsaved_library_image(megapixels: float):
    """A Wagtail library image of a ``megapixels`` photo, not saved (for rendition benches;
    needs Django set up)."""
    import io

    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    data = photo(megapixels, orientation=None)
    image = get_image_model()(
        title="bench", collection_id=1, file=ImageFile(io.BytesIO(data), name="bench.jpg")
    )
    image.width, image.height = image.file.width, image.file.height
    return image
