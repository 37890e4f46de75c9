"""Foundation benchmark: national units import, then read paths at a few thousand items.

Run: .venv/bin/python bench/bench_foundation.py [--items 5000]
Uses a throw-away SQLite database under a temporary folder unless DATABASE_URL is set.
Prints a table of p50/p95 server times measured in-process with Django's test client.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("NGUON_VAR_DIR", tempfile.mkdtemp(prefix="nguon-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
os.environ.setdefault("ALLOWED_HOSTS", "testserver")


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from broadcast.models import Cluster, Device
    from broadcast.services import device_token_issue
    from newsroom.models import AdministrativeUnit, NewsItem
    from search.services import item_index

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("import_units", no_progress=True, verbosity=0)
    import_ms = (time.perf_counter() - started) * 1000

    communes = list(AdministrativeUnit.objects.filter(unit_type="commune")[:200])
    words = ["tiêm chủng", "Đồng Xoài", "phòng chống dịch", "nông thôn mới", "bão lũ"]
    now = timezone.now()
    NewsItem.objects.bulk_create(
        [
            NewsItem(
                unit=communes[i % len(communes)],
                headline=f"Tin {i}: {words[i % len(words)]} tại {communes[i % len(communes)].name}",
                summary=f"Tóm tắt {i} về {words[(i + 1) % len(words)]}",
                slug=f"tin-{i}",
                live=True,
                first_published_at=now,
                last_published_at=now,
            )
            for i in range(args.items)
        ],
        batch_size=1000,
    )
    started = time.perf_counter()
    for item_id in NewsItem.objects.values_list("pk", flat=True):
        item_index(item_id=item_id)
    index_ms = (time.perf_counter() - started) * 1000

    cluster = Cluster.objects.create(name="bench", commune=communes[0])
    device = Device.objects.create(cluster=cluster, serial="BENCH-1")
    token = device_token_issue(device=device)
    client = Client()

    rows = [
        ("import_units (3,355 units)", import_ms, None),
        (f"index {args.items} items (embedded)", index_ms, None),
    ]
    for label, fn in [
        ("GET / (home, 20 items)", lambda: client.get("/")),
        ("GET /feeds/rss/ (50 items)", lambda: client.get("/feeds/rss/")),
        ("GET /search/?q=tiem chung", lambda: client.get("/search/", {"q": "tiem chung"})),
        ("GET /search/?q=dong xoai", lambda: client.get("/search/", {"q": "dong xoai"})),
        (
            "GET device timeline",
            lambda: client.get(
                f"/api/v1/devices/{device.pk}/timeline", HTTP_AUTHORIZATION=f"Bearer {token}"
            ),
        ),
        ("GET /healthz", lambda: client.get("/healthz")),
    ]:
        fn()  # warm up
        p50, p95 = timed(fn, args.repeat)
        rows.append((label, p50, p95))

    print(
        f"\nNguồn foundation benchmark — {args.items} items, {args.repeat} requests each, "
        f"database: {django.db.connection.vendor}\n"
    )
    print(f"| {'operation':<40} | {'p50 ms':>9} | {'p95 ms':>9} |")
    print(f"| {'-' * 40} | {'-' * 8}: | {'-' * 8}: |")
    for label, p50, p95 in rows:
        p95s = f"{p95:9.1f}" if p95 is not None else f"{'—':>9}"
        print(f"| {label:<40} | {p50:9.1f} | {p95s} |")


if __name__ == "__main__":
    main()
