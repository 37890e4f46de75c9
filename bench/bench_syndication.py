"""Syndication benchmark: feeds on the 304 and 200 paths against a trivial view, the ninjs
list, and push throughput, with N published items (default 100,000) behind gunicorn.

Run (PostgreSQL, its own database, created if missing):
    .venv/bin/python bench/bench_syndication.py --items 100000 --duration 5

Needs ``wrk`` (Debian: ``apt-get install wrk``) for the throughput columns; without it only
the sequential latency columns are filled. Prints one table (Markdown).

The same file is the gunicorn app (``bench_syndication:wsgi_app()``): the project's URLs
plus ``/bench/trivial/``, a view that does nothing, through the same middleware.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nguon_syndication_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The push receiver listens on 127.0.0.1: the outbound guard refuses loopback unless named.
os.environ.setdefault("SYNDICATION_ALLOWED_NETWORKS", "127.0.0.0/8")
os.environ.setdefault("NGUON_VAR_DIR", str(Path(tempfile.gettempdir()) / "nguon-bench-syndication"))


# --- the gunicorn app ---------------------------------------------------------------------


def _trivial(request):
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")


def __getattr__(name):
    # Django reads ``urlpatterns`` from this module once it is the ROOT_URLCONF.
    if name == "urlpatterns":
        from django.db import transaction
        from django.urls import path

        from cms.urls import urlpatterns as project

        trivial = transaction.non_atomic_requests(_trivial)  # like the feeds: no BEGIN/COMMIT
        return [path("bench/trivial/", trivial), *project]
    raise AttributeError(name)


def wsgi_app():
    from django.conf import settings

    settings.ROOT_URLCONF = "bench_syndication"
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# --- set-up -------------------------------------------------------------------------------


def seed(n_items: int) -> dict:
    """Units, then bulk-created published items up to ``n_items`` (idempotent)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from newsroom.models import AdministrativeUnit, Category, NewsItem
    from syndication.services import feed_changed, syndicated_items_rebuild

    call_command("migrate", verbosity=0)
    if not AdministrativeUnit.objects.filter(unit_type="commune").exists():
        call_command("import_units", no_progress=True, verbosity=0)
    communes = list(AdministrativeUnit.objects.filter(unit_type="commune")[:300])
    categories = list(Category.objects.all()) or [None]
    have = NewsItem.objects.filter(live=True).count()
    now = timezone.now()
    started = time.perf_counter()
    batch = []
    words = "tiêm chủng Đồng Xoài phòng chống dịch nông thôn mới bão lũ an toàn giao thông".split()
    for i in range(have, n_items):
        when = now - timezone.timedelta(minutes=n_items - i)
        batch.append(
            NewsItem(
                unit=communes[i % len(communes)],
                headline=f"Tin số {i}: {' '.join(words[i % 7 : i % 7 + 4])}",
                summary="Tóm tắt " + " ".join(words),
                body="<p>" + " ".join(words * 8) + "</p>",
                category=categories[i % len(categories)],
                byline="Phóng viên xã",
                live=True,
                version=1,
                version_created_at=when,
                first_published_at=when,
                last_published_at=when,
                created_at=when,
            )
        )
        if len(batch) == 5000:
            NewsItem.objects.bulk_create(batch)
            batch = []
    if batch:
        NewsItem.objects.bulk_create(batch)
    # A realistic mix for the podcast query: every tenth item is an audio bulletin (its
    # audio not attached, so the podcast feed is built from the query alone).
    NewsItem.objects.filter(kind="article", headline__regex=r"^Tin số [0-9]*0:").update(
        kind="audio"
    )
    feed_changed()  # bulk_create sends no signals: mark the change and index the items
    syndicated_items_rebuild()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does soon after a bulk load
    province = AdministrativeUnit.objects.filter(depth=1).order_by("code").first()
    return {
        "seed_s": time.perf_counter() - started,
        "created": max(0, n_items - have),
        "province_code": province.code,
    }


# --- measuring ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench_syndication:wsgi_app()",
            "--pythonpath",
            f"{ROOT / 'bench'},{ROOT}",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/bench/trivial/", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def latency(url: str, n: int, headers=None) -> tuple[float, float, int]:
    """Sequential requests: p50 and p95 in ms, and the status seen."""
    import requests

    session = requests.Session()
    samples, status = [], 0
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(url, headers=headers or {})
        samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], status


def wrk(url: str, seconds: int, headers=None) -> float | None:
    """Requests per second under ``wrk -t2 -c16``; None without wrk."""
    if not shutil.which("wrk"):
        return None
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        print(f"warning: {non2xx.group(1)} error answers from {url}", file=sys.stderr)
    return float(match.group(1)) if match else None


def push_throughput(n: int) -> tuple[float, int]:
    """Deliveries per second from one drain to a local receiver on 127.0.0.1."""
    sys.path.insert(0, str(ROOT / "tests" / "syndication"))
    from receiver import Receiver

    from newsroom.models import NewsItem
    from syndication import services
    from syndication.models import Delivery, Subscriber

    secret = secrets.token_hex(16)
    receiver = Receiver(secret=secret)
    Subscriber.objects.filter(name="bench receiver").delete()
    subscriber = Subscriber.objects.create(
        name="bench receiver",
        endpoint_url=receiver.url,
        format="ninjs",
        secret=secret,
        timeout_seconds=5,
    )
    ids = list(NewsItem.objects.filter(live=True).order_by("-pk").values_list("pk", flat=True)[:n])
    for pk in ids:
        services.deliveries_fanout_publish(item_id=pk, version=1)
    queued = Delivery.objects.filter(subscriber=subscriber).count()
    started = time.perf_counter()
    while Delivery.objects.filter(subscriber=subscriber, state="pending").exists():
        services.subscriber_drain(subscriber_id=subscriber.pk, max_deliveries=10_000)
    elapsed = time.perf_counter() - started
    delivered = Delivery.objects.filter(subscriber=subscriber, state="success").count()
    receiver.stop()
    subscriber.delete()
    assert delivered == queued == len(receiver.seen), (delivered, queued, len(receiver.seen))
    return delivered / elapsed, delivered


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--samples", type=int, default=100, help="sequential requests")
    parser.add_argument("--pushes", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    from benchdb import ensure_database

    ensure_database()
    import django

    django.setup()
    info = seed(args.items)
    from newsroom.models import NewsItem

    live = NewsItem.objects.filter(live=True).count()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers)
    rows = []
    try:
        import requests

        trivial_rps = wrk(f"{base}/bench/trivial/", args.duration)
        t50, t95, _ = latency(f"{base}/bench/trivial/", args.samples)
        rows.append(("trivial view", "200", t50, t95, trivial_rps, 1.0))
        for path in (
            "/feeds/rss/",
            "/feeds/atom/",
            "/feeds/podcast/",
            f"/feeds/rss/?unit={info['province_code']}",
        ):
            url = base + path
            etag = requests.get(url, timeout=30).headers["ETag"]
            p50, p95, status = latency(url, args.samples, {"If-None-Match": etag})
            assert status == 304, status
            rps = wrk(url, args.duration, {"If-None-Match": etag})
            ratio = rps / trivial_rps if rps and trivial_rps else None
            rows.append((path, "304", p50, p95, rps, ratio))
            p50, p95, status = latency(url, args.samples)
            assert status == 200, status
            rps = wrk(url, args.duration)
            ratio = rps / trivial_rps if rps and trivial_rps else None
            rows.append((path, "200 (uncached, 50 items)", p50, p95, rps, ratio))
        for path in (
            "/api/v1/items/?limit=50",
            "/api/v1/items/?limit=20&unit=" + info["province_code"],
        ):
            url = base + path
            p50, p95, status = latency(url, args.samples)
            assert status == 200, status
            rows.append((path, "200", p50, p95, wrk(url, args.duration), None))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    push_rate, pushed = push_throughput(args.pushes)

    db = os.environ["DATABASE_URL"].split("@")[-1]
    print(
        f"\n{live:,} published items ({info['created']:,} created in {info['seed_s']:.0f} s), "
        f"database {db}, gunicorn {args.workers} sync workers, wrk -t2 -c16 "
        f"-d{args.duration}s, {args.samples} sequential requests for p50/p95\n"
    )
    print("| endpoint | path | p50 ms | p95 ms | req/s (wrk) | × trivial |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, kind, p50, p95, rps, ratio in rows:
        rps_s = f"{rps:,.0f}" if rps else "n/a"
        ratio_s = f"{ratio:.2f}" if ratio else ""
        print(f"| `{name}` | {kind} | {p50:.1f} | {p95:.1f} | {rps_s} | {ratio_s} |")
    print(
        f"| push to a local receiver | {pushed} ninjs deliveries, one drain | | | "
        f"{push_rate:,.0f} deliveries/s | |"
    )


if __name__ == "__main__":
    main()
