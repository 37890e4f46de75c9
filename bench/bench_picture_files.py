"""Picture files for the channels: what making them costs for a 12-megapixel phone photo.

Run:  .venv/bin/python bench/bench_picture_files.py [--repeat 5] [--megapixels 12]

The source is ``bench_images.photo`` (photo-like, 4000 × 3000, JPEG quality 92). Each row is
the median wall time of ``--repeat`` runs in this process, through Wagtail's own rendition
code (``Image.generate_rendition_file``; no database: the image is not saved):

* ``max-1920x1080|format-jpeg`` — the file feeds, ninjs and bulletin boards get
  (``media.image_renditions.PICTURE_LARGE``);
* ``fill-480x270|format-jpeg`` — the thumbnail (``PICTURE_THUMBNAIL``);
* SHA-256 of the board file — what a board's timeline compile reads per picture.

Why it matters: the files are made when an item is published
(``media.tasks.image_renditions_make``), so that neither a feed request nor a board's
timeline poll pays for them (``docs/broadcast.md``, *Bulletin boards and pictures*).
"""

import argparse
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()
    from bench_images import unsaved_library_image
    from wagtail.images.models import Filter

    from media.image_renditions import PICTURE_LARGE, PICTURE_THUMBNAIL

    image = unsaved_library_image(args.megapixels)
    rows = []
    files = {}
    for spec in (PICTURE_LARGE, PICTURE_THUMBNAIL):
        seconds, made = timed(
            lambda spec=spec: image.generate_rendition_file(Filter(spec)), args.repeat
        )
        made.seek(0)
        files[spec] = made.read()
        rows.append((f"`{spec.replace('|', chr(92) + '|')}`", seconds, len(files[spec])))
    board = files[PICTURE_LARGE]
    seconds, _ = timed(lambda: hashlib.sha256(board).hexdigest(), args.repeat)
    rows.append(("SHA-256 of the board file", seconds, len(board)))
    print(f"source: {image.width}×{image.height} JPEG, {image.file.size / 1e6:.1f} MB")
    print("| step | median wall (ms) | output bytes |")
    print("| --- | ---: | ---: |")
    for label, seconds, size in rows:
        print(f"| {label} | {seconds * 1000:.1f} | {size:,} |")


if __name__ == "__main__":
    main()
