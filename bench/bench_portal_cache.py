"""Portal page cache benchmark: cached home and item pages against a trivial view, behind
gunicorn with PostgreSQL and the Redis cache, as production runs them; the same pages with
the page cache off for comparison.

Run (its own PostgreSQL database, created if missing; the Redis cache at CACHE_URL):
    CACHE_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/bench_portal_cache.py \
        --items 2000 --duration 10

Two gunicorns, one after the other (never both at once): the first with
``NGUON_PORTAL_PAGE_CACHE=300`` answers the trivial view, then the home and an item page
from the cache, then the trivial view again; the second, with the cache off, renders the
same two pages on every request. ``wrk --latency -t2 -c16`` drives 127.0.0.1 for
``--duration`` seconds per URL. Prints one Markdown table: requests/s, p50 and p99 latency
and the ratio to the trivial view (the mean of its two runs). Target (issue 16): cached
home and item ≥ 0.8× trivial.

The same file is the gunicorn app (``bench_portal_cache:wsgi_app()``): the project's URLs
plus ``/bench/trivial/``, a view that returns a constant answer, through the same
middleware (and outside ``ATOMIC_REQUESTS``, as a cached page is).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nguon_portal_cache_bench")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CACHE_KEY_PREFIX", "nguon-bench-portal")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The portal's policy as production sets it (the middleware adds it to every HTML answer).
os.environ.setdefault("NGUON_CSP", "default-src 'self'; script-src 'self'; object-src 'none'")
os.environ.setdefault("NGUON_VAR_DIR", str(Path(tempfile.gettempdir()) / "nguon-bench-portal"))

CACHE_SECONDS = "300"


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

        trivial = transaction.non_atomic_requests(_trivial)
        return [path("bench/trivial/", trivial), *project]
    raise AttributeError(name)


def wsgi_app():
    from django.conf import settings

    settings.ROOT_URLCONF = "bench_portal_cache"
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# --- set-up -------------------------------------------------------------------------------


def seed(n_items: int) -> dict:
    """Migrate, the national units, ``n_items`` published items (idempotent); the demo's
    identity. Returns the URLs to measure."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cms.management.commands.load_demo import demo_identity
    from newsroom.models import AdministrativeUnit, Category, NewsItem
    from portal.cache import portal_cache_invalidate

    call_command("migrate", verbosity=0)
    if not AdministrativeUnit.objects.filter(unit_type="commune").exists():
        call_command("import_units", no_progress=True, verbosity=0)
    demo_identity()
    communes = list(AdministrativeUnit.objects.filter(unit_type="commune")[:300])
    categories = list(Category.objects.all())
    have = NewsItem.objects.filter(live=True).count()
    now = timezone.now()
    words = "tiêm chủng Đồng Xoài phòng chống dịch nông thôn mới bão lũ an toàn giao thông".split()
    batch = []
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
                distribution=NewsItem.Distribution.PROVINCE,
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
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    portal_cache_invalidate()  # bulk_create sends no signals
    newest = NewsItem.objects.filter(live=True).order_by("-first_published_at").first()
    return {"home": "/", "item": newest.public_path}


# --- measuring ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, cache_seconds: str) -> subprocess.Popen:
    env = dict(os.environ, NGUON_PORTAL_PAGE_CACHE=cache_seconds)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench_portal_cache:wsgi_app()",
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
        env=env,
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


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, seconds: int) -> dict:
    """``wrk --latency -t2 -c16``: requests/s, p50 and p99 in ms, error answers."""
    args = ["wrk", "--latency", "-t2", "-c16", f"-d{seconds}s", url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(percentiles["50"]),
        "p99": _ms(percentiles["99"]),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def warm(url: str, expect: str | None) -> str:
    """Fetch twice; the second answer's ``X-Portal-Cache`` must be ``expect``."""
    import requests

    requests.get(url, timeout=30).raise_for_status()
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    seen = response.headers.get("X-Portal-Cache")
    if seen != expect:
        raise RuntimeError(f"{url}: X-Portal-Cache is {seen!r}, expected {expect!r}")
    return seen or "off"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000, help="published items")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    load_before = os.getloadavg()[0]
    from benchdb import ensure_database

    ensure_database()
    import django

    django.setup()
    from django.conf import settings

    urls = seed(args.items)
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[1]
    rows = []

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers, CACHE_SECONDS)
    try:
        rows.append(
            ("trivial view", "/bench/trivial/", "—", wrk(f"{base}/bench/trivial/", args.duration))
        )
        for name, path in urls.items():
            seen = warm(base + path, "hit")
            rows.append((f"{name}, cached", path, seen, wrk(base + path, args.duration)))
        rows.append(
            (
                "trivial view (again)",
                "/bench/trivial/",
                "—",
                wrk(f"{base}/bench/trivial/", args.duration),
            )
        )
    finally:
        stop(server)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers, "0")
    try:
        for name, path in urls.items():
            seen = warm(base + path, None)
            rows.append((f"{name}, uncached", path, seen, wrk(base + path, args.duration)))
    finally:
        stop(server)

    trivial = sum(r[3]["rps"] for r in rows if r[0].startswith("trivial")) / 2
    print(
        f"\nportal page cache, {args.items} items, {db}, {cache}, gunicorn {args.workers} "
        f"sync workers, wrk --latency -t2 -c16 -d{args.duration}s, "
        f"load average before: {load_before:.1f}\n"
    )
    print("| page | path | X-Portal-Cache | req/s | p50 ms | p99 ms | × trivial |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name, path, seen, r in rows:
        errors = f" ({r['errors']} errors)" if r["errors"] else ""
        print(
            f"| {name} | `{path}` | {seen} | {r['rps']:.0f}{errors} | {r['p50']:.2f} "
            f"| {r['p99']:.2f} | {r['rps'] / trivial:.2f} |"
        )


if __name__ == "__main__":
    main()
