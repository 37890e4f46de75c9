"""The approver's review screen against the full editor, as the demo serves them.

Run: .venv/bin/python bench/bench_review.py [--repeat 30]
Uses a throw-away SQLite database under a temporary folder unless DATABASE_URL is set
(then the database must be empty). Loads the demo (``load_demo``: the 3,355 official units,
so the editor's unit chooser is as big as in production), sends one item to the commune
approver, then prints p50/p95 server time and page size of the commune approver's review
screen and of the item editor (what approving meant before: open the editor, then act),
and of one approval from the review screen (POST, through ``item_review``).
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


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from newsroom.models import AdministrativeUnit, NewsItem
    from newsroom.services import item_create, item_submit

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as devnull:
        call_command("load_demo", stdout=devnull)
    User = get_user_model()
    reporter, approver = (User.objects.get(username=u) for u in ("phongvien", "duyet_xa"))
    commune = AdministrativeUnit.objects.get(code="25198")
    items = []
    for n in range(args.repeat + 1):
        item = item_create(
            user=reporter,
            unit=commune,
            headline=f"Tin đo thời gian {n}",
            body="<p>" + "Nội dung tin bài dài vừa phải. " * 60 + "</p>",
            distribution="province",
        )
        item_submit(user=reporter, item=item)
        items.append(item)
    client = Client()
    client.force_login(approver)

    def measure(url_for, method="get", data=None):
        samples, size = [], 0
        client.get(url_for(items[0]))  # warm caches and templates
        for item in items[1:]:
            started = time.perf_counter()
            if method == "get":
                response = client.get(url_for(item))
            else:
                client.get(url_for(item))  # the approver reads, then presses
                fresh = NewsItem.objects.get(pk=item.pk)
                step = fresh.current_workflow_state.current_task_state_id
                started = time.perf_counter()
                response = client.post(
                    url_for(item),
                    {
                        **data,
                        "revision_id": fresh.get_latest_revision().pk,
                        "task_state_id": step,
                    },
                )
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 302), response.status_code
            size = len(response.content)
        return (*percentiles(samples), size)

    review = lambda item: reverse("newsroom_item_review", args=[item.pk])  # noqa: E731
    editor = lambda item: reverse(  # noqa: E731
        "wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]
    )
    rows = [
        ("review screen (GET)", measure(review)),
        ("item editor (GET)", measure(editor)),
        ("approve from the review screen (POST)", measure(review, "post", {"action": "approve"})),
    ]
    engine = django.db.connection.vendor
    print(f"engine {engine}, {args.repeat} items, commune approver")
    print(f"{'operation':<42}{'p50 ms':>9}{'p95 ms':>9}{'bytes':>10}")
    for name, (p50, p95, size) in rows:
        print(f"{name:<42}{p50:>9.1f}{p95:>9.1f}{size:>10}")


if __name__ == "__main__":
    main()
