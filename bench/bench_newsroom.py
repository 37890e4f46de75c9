"""Newsroom benchmark: the national tree, N items and M users, then the approver's views.

Run: .venv/bin/python bench/bench_newsroom.py [--items 100000] [--users 2000] [--repeat 30]
Uses a throw-away SQLite database under a temporary folder unless DATABASE_URL is set.
Generates the 3,321 communes (+ 34 provinces) of the 2025 map, users with memberships and
items with ``bulk_create``, sends a few hundred items through the real chain, then prints
p50/p95 server time of "awaiting my approval", the province approver's item listing (the
admin page, in-process), submitting and approving an item.
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


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--chain-items", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from newsroom.models import AdministrativeUnit, Membership, NewsItem, Role
    from newsroom.selectors import awaiting_summary
    from newsroom.services import item_create, item_review, item_submit

    User = get_user_model()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("import_units", no_progress=True, verbosity=0)
    setup = {"units": (time.perf_counter() - started) * 1000}

    communes = list(AdministrativeUnit.objects.filter(unit_type="commune").order_by("path"))
    province = AdministrativeUnit.objects.filter(unit_type="province").order_by("path").first()
    local = [c for c in communes if c.path.startswith(province.path)]

    started = time.perf_counter()
    User.objects.bulk_create(
        [User(username=f"bench{i:05d}", is_active=True) for i in range(args.users)],
        batch_size=1000,
    )
    users = list(User.objects.filter(username__startswith="bench").order_by("pk"))
    memberships = []
    for i, user in enumerate(users):
        commune = communes[i % len(communes)]
        role = Role.REPORTER if i % 2 == 0 else Role.APPROVER
        memberships.append(Membership(user=user, unit=commune, role=role))
    Membership.objects.bulk_create(memberships, batch_size=1000, ignore_conflicts=True)
    setup["users"] = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    now = timezone.now()
    batch = []
    for i in range(args.items):
        live = i % 3 == 0
        batch.append(
            NewsItem(
                unit_id=communes[i % len(communes)].pk,
                headline=f"Tin số {i} về tiêm chủng",
                live=live,
                first_published_at=now if live else None,
                last_published_at=now if live else None,
                version=1 if live else 0,
            )
        )
        if len(batch) == 5000:
            NewsItem.objects.bulk_create(batch)
            batch = []
    NewsItem.objects.bulk_create(batch)
    setup["items"] = (time.perf_counter() - started) * 1000

    # People of the first province who run the real chain.
    commune = local[0]
    reporter = User.objects.create_user("bench_rep")
    commune_approver = User.objects.create_user("bench_appr_xa")
    province_approver = User.objects.create_user("bench_appr_tinh", is_staff=True)
    from newsroom.services import membership_grant

    membership_grant(user=reporter, unit=commune, role=Role.REPORTER)
    membership_grant(user=commune_approver, unit=commune, role=Role.APPROVER)
    membership_grant(user=province_approver, unit=province, role=Role.APPROVER)

    submit_ms, approve_ms = [], []
    for i in range(args.chain_items):
        item = item_create(user=reporter, unit=commune, headline=f"Tin qua chuỗi {i}")
        started = time.perf_counter()
        item_submit(user=reporter, item=item)
        submit_ms.append((time.perf_counter() - started) * 1000)
        if i % 2 == 0:
            started = time.perf_counter()
            item_review(user=commune_approver, item=item, action="approve")
            approve_ms.append((time.perf_counter() - started) * 1000)

    client = Client()
    client.force_login(province_approver)
    listing_url = "/admin/snippets/newsroom/newsitem/"
    assert client.get(listing_url).status_code == 200

    def listing():
        response = client.get(listing_url)
        assert response.status_code == 200

    def awaiting(user):
        def run():
            summary = awaiting_summary(user=user)
            [e["item"].headline for e in summary["entries"]]

        return run

    rows = [
        ("awaiting my approval (commune approver)", timed(awaiting(commune_approver), args.repeat)),
        (
            "awaiting my approval (province approver)",
            timed(awaiting(province_approver), args.repeat),
        ),
        ("province approver's item listing (admin page)", timed(listing, args.repeat)),
        ("submit an item", percentiles(submit_ms)),
        ("approve a step", percentiles(approve_ms or [0.0])),
    ]
    total_units = AdministrativeUnit.objects.count()
    print(
        f"\nunits {total_units}, items {NewsItem.objects.count()}, users {User.objects.count()},"
        f" engine {django.db.connection.vendor}"
    )
    print(
        "setup: units {units:.0f} ms, users+memberships {users:.0f} ms,"
        " items {items:.0f} ms".format(**setup)
    )
    print(f"{'operation':52} {'p50 ms':>9} {'p95 ms':>9}")
    for name, (p50, p95) in rows:
        print(f"{name:52} {p50:9.1f} {p95:9.1f}")


if __name__ == "__main__":
    main()
