"""The portal's responsive renditions of one 12-megapixel photo: what publishing a lead
picture costs the worker, and what each file weighs in WebP and JPEG.

Run:  .venv/bin/python bench/bench_portal_pictures.py [--repeat 3] [--megapixels 12]

The source is ``bench_images.photo`` (photo-like, 4000 × 3000, JPEG quality 92). Each row is
the median wall time of ``--repeat`` runs in this process through Wagtail's own rendition
code (``Image.generate_rendition_file``; no database: the image is not saved), for every
spec ``portal.pictures.image_specs`` makes of a lead picture (cards, figures, sharing).

Why it matters: ``portal.tasks.render_item_pictures`` makes them when the item is published
(``docs/portal.md``, *Pictures*); a page that had to make them for 20 listed pictures would
keep one reader waiting for all of it.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()
    from bench_images import unsaved_library_image
    from wagtail.images.models import Filter

    from portal.pictures import image_specs

    image = unsaved_library_image(args.megapixels)
    rows = []
    for spec in image_specs(image, lead=True):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            made = image.generate_rendition_file(Filter(spec))
            times.append(time.perf_counter() - start)
        made.seek(0)
        rows.append((spec, statistics.median(times), len(made.read())))
    print(f"source: {image.width}×{image.height} JPEG, {image.file.size / 1e6:.1f} MB")
    print("| spec | median wall (ms) | bytes |")
    print("| --- | ---: | ---: |")
    for spec, seconds, size in rows:
        print(f"| `{spec.replace('|', chr(92) + '|')}` | {seconds * 1000:.0f} | {size:,} |")
    total = sum(seconds for _spec, seconds, _size in rows)
    print(f"| all {len(rows)} (one lead picture) | {total * 1000:.0f} | |")


if __name__ == "__main__":
    main()
