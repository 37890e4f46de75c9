"""Portal timings at scale (not collected by the suite; run it by path):

    NGUON_PORTAL_BENCH_ITEMS=20000 .venv/bin/python -m pytest bench/bench_portal.py \
        -q -p no:cacheprovider -s

Builds N published items (bulk insert, a quarter with images, audio or video) over the test
tree, then times each portal page in-process (Django test client, warm) and prints a table
of the median and p95 over 20 requests with the query count.
"""

import os
import statistics
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsroom.models import Category, NewsItem
from tests.factories import make_tree
from tests.portal.conftest import make_image, rendition_rows

N = int(os.environ.get("NGUON_PORTAL_BENCH_ITEMS", "2000"))


@pytest.fixture
def tree(db):
    return make_tree(three_level=True)


@pytest.fixture
def categories(db):
    return list(Category.objects.order_by("sort_order", "name")[:3])


RUNS = 20


@pytest.mark.django_db
def test_portal_timings(client, tree, categories):
    image = make_image()
    audio = rendition_rows("audio", {"loudspeaker": "audio/mpeg", "web_audio": "audio/mp4"})
    video = rendition_rows("video", {"web_video_720": "video/mp4", "poster": "image/jpeg"})
    units = [tree["A"], tree["B"], tree["C"]]
    now = timezone.now()
    rows = []
    for n in range(N):
        when = now - timedelta(minutes=n)
        kind = n % 4
        rows.append(
            NewsItem(
                uuid=uuid.uuid4(),
                unit=units[n % 3],
                headline=f"Tin thử tải số {n}",
                slug=f"tin-{n}",
                summary="Tóm tắt ngắn của tin.",
                kind=("article", "article", "audio", "video")[kind],
                category=categories[n % len(categories)],
                image=image if kind == 1 else None,
                audio=audio if kind == 2 else None,
                video=video if kind == 3 else None,
                live=True,
                first_published_at=when,
                last_published_at=when,
                version=1,
                version_created_at=when,
            )
        )
    t0 = time.perf_counter()
    NewsItem.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them in production
    insert = time.perf_counter() - t0
    sample = NewsItem.objects.order_by("-first_published_at")[:4]
    urls = {
        "home": "/",
        "home ?trang=50": "/?trang=50",
        "province unit": f"/don-vi/{tree['P'].code}/",
        "commune unit": f"/don-vi/{tree['A'].code}/",
        "category": f"/chuyen-muc/{categories[0].slug}/",
        "item (image)": sample[2].public_path,
        "item (audio)": sample[1].public_path,
        "sitemap-items": "/sitemap-items.xml",
        "sitemap-news": "/sitemap-news.xml",
    }
    lines = [
        f"portal, {N} items, {connection.vendor}, insert {insert:.1f} s",
        f"{'page':<16} {'median ms':>10} {'p95 ms':>8} {'queries':>8}",
    ]
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        lines.append(
            f"{name:<16} {statistics.median(times):>10.1f} {p95:>8.1f} "
            f"{len(ctx.captured_queries):>8}"
        )
    print("\n" + "\n".join(lines))
