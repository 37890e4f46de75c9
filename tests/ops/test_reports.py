"""The statistics dashboard against a generated history with known totals."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from wagtail.models import TaskState

from newsroom.models import Category, NewsItem, Role, UnitApprovalTaskState
from newsroom.services import item_create, item_review, item_submit, item_withdraw
from reports.selectors import (
    MEASURE_LABELS,
    MEASURES,
    activity_summary,
    approval_times,
    percentile,
)
from tests.factories import make_tree, make_user

pytestmark = pytest.mark.django_db


def _approve_until_live(admin, item):
    for _ in range(6):
        if item.live:
            return item
        item = item_review(user=admin, item=item, action="approve")
    raise AssertionError("the chain did not end")


@pytest.fixture
def history():
    """Province P; district X (communes A, B), district Y (commune C).

    - A: an audio bulletin (category 1) goes all the way and is published;
    - A: an article (category 2) is returned by the commune;
    - C: an article (category 1) is published, then withdrawn.
    """
    units = make_tree(three_level=True)
    admin = get_user_model().objects.create_superuser("quantri", password="x")
    reporter_a = make_user("pv_a", unit=units["A"], role=Role.REPORTER)
    reporter_c = make_user("pv_c", unit=units["C"], role=Role.REPORTER)
    cat1, _ = Category.objects.get_or_create(slug="thu-y-te", defaults={"name": "Thử: Y tế"})
    cat2, _ = Category.objects.get_or_create(
        slug="thu-moi-truong", defaults={"name": "Thử: Môi trường"}
    )
    fields = {"distribution": NewsItem.Distribution.PROVINCE}
    audio = item_create(
        user=reporter_a,
        unit=units["A"],
        headline="Bản tin A",
        kind="audio",
        category=cat1,
        **fields,
    )
    returned = item_create(
        user=reporter_a, unit=units["A"], headline="Tin A bị trả", category=cat2, **fields
    )
    withdrawn = item_create(
        user=reporter_c, unit=units["C"], headline="Tin C thu hồi", category=cat1, **fields
    )
    for item, reporter in ((audio, reporter_a), (returned, reporter_a), (withdrawn, reporter_c)):
        item_submit(user=reporter, item=item)
    audio = _approve_until_live(admin, audio)
    item_review(user=admin, item=returned, action="reject", comment="Thiếu nguồn tin")
    withdrawn = _approve_until_live(admin, withdrawn)
    item_withdraw(user=admin, item=withdrawn, reason="Sai số liệu")
    # Known step durations: commune steps took 1 h and 3 h, district 2 h and 4 h, province
    # 5 h and 7 h (the returned step is not an approval).
    durations = {"commune": [1, 3], "district": [2, 4], "province": [5, 7]}
    now = timezone.now()
    for level, hours in durations.items():
        states = UnitApprovalTaskState.objects.filter(
            status=TaskState.STATUS_APPROVED, task__unitapprovaltask__level=level
        ).order_by("pk")
        assert states.count() == len(hours), level
        for state, h in zip(states, hours, strict=True):
            UnitApprovalTaskState.objects.filter(pk=state.pk).update(
                started_at=now - datetime.timedelta(hours=h), finished_at=now
            )
    return {"units": units, "admin": admin, "cat1": cat1, "cat2": cat2}


def _period():
    now = timezone.now()
    return now - datetime.timedelta(days=1), now + datetime.timedelta(minutes=1)


def test_activity_counts_match_the_history_for_each_subtree(history):
    units = history["units"]
    start, end = _period()
    province = activity_summary(unit=units["P"], start=start, end=end)
    assert province.totals == {
        "submitted": 3,
        "approved": 6,  # 3 levels for each of the two published items
        "returned": 1,
        "published": 2,
        "withdrawn": 1,  # wagtail.unpublish + nguon.withdraw is one withdrawal
    }
    district_x = activity_summary(unit=units["X"], start=start, end=end)
    assert district_x.totals == {
        "submitted": 2,
        "approved": 3,
        "returned": 1,
        "published": 1,
        "withdrawn": 0,
    }
    kinds = province.by_kind
    # One audio bulletin and one article were published; two articles and one bulletin sent.
    assert {kind: row["published"] for kind, row in kinds.items() if row["published"]} == {
        "Bản tin âm thanh": 1,
        "Bài viết": 1,
    }
    assert {kind: row["submitted"] for kind, row in kinds.items() if row["submitted"]} == {
        "Bản tin âm thanh": 1,
        "Bài viết": 2,
    }
    by_cat = province.by_category
    assert by_cat[history["cat1"].name]["published"] == 2
    assert by_cat[history["cat2"].name]["returned"] == 1
    before = activity_summary(unit=units["P"], start=start - datetime.timedelta(days=30), end=start)
    assert set(before.totals.values()) == {0}


def test_time_to_approve_median_and_p90_per_level(history):
    start, end = _period()
    rows = {r["level"]: r for r in approval_times(unit=history["units"]["P"], start=start, end=end)}
    assert rows["commune"] == {**rows["commune"], "steps": 2, "median_hours": 2.0, "p90_hours": 3.0}
    assert rows["district"]["steps"] == 2 and rows["district"]["median_hours"] == 3.0
    assert rows["province"]["median_hours"] == 6.0 and rows["province"]["p90_hours"] == 7.0
    only_y = {
        r["level"]: r for r in approval_times(unit=history["units"]["Y"], start=start, end=end)
    }
    assert [only_y[level]["steps"] for level in ("commune", "district", "province")] == [1, 1, 1]
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9


def test_dashboard_renders_charts_tables_and_exports(history):
    client = Client()
    client.force_login(history["admin"])
    today = timezone.localdate().strftime("%d/%m/%Y")
    params = {"unit": history["units"]["P"].pk, "start": today, "end": today}
    page = client.get(reverse("reports_dashboard"), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-table="activity"' in html
    # Each chart draws the figures of the history: every bar is titled "label — series: n".
    assert len(re.findall(r'<svg [^>]*class="nguon-chart"', html)) >= 3
    bars = {
        (label, series): value
        for label, series, value in re.findall(
            r"<rect [^>]*><title>([^<]+?) — ([^<]+?): ([\d.,]+)</title></rect>", html
        )
    }
    with translation.override("vi"):
        count = translation.gettext("Count")
        measures = [str(MEASURE_LABELS[m]) for m in MEASURES]
        submitted, published = (str(MEASURE_LABELS[m]) for m in ("submitted", "published"))
    assert [bars[(m, count)] for m in measures] == ["3", "6", "1", "2", "1"]
    assert bars[("Bài viết", submitted)] == "2" and bars[("Bản tin âm thanh", published)] == "1"
    assert "Thống kê" in html  # Vietnamese admin

    csv_response = client.get(reverse("reports_dashboard"), {**params, "export": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    activity = rows[rows.index(next(r for r in rows if r and r[0] == "Hoạt động tòa soạn")) + 2 :][
        :5
    ]
    assert [int(r[1]) for r in activity] == [3, 6, 1, 2, 1]

    xlsx = client.get(reverse("reports_dashboard"), {**params, "export": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["activity"]
    values = [row for row in sheet.iter_rows(values_only=True) if row and row[0]]
    counts = [r[1] for r in values if isinstance(r[1], int)]
    assert counts == [3, 6, 1, 2, 1]
    assert "approval" in book.sheetnames


def test_dashboard_is_confined_to_the_users_units(history):
    units = history["units"]
    approver = make_user("duyet_x", unit=units["X"], role=Role.APPROVER)
    client = Client()
    client.force_login(approver)
    today = timezone.localdate().strftime("%d/%m/%Y")
    own = client.get(
        reverse("reports_dashboard"), {"unit": units["X"].pk, "start": today, "end": today}
    )
    assert own.status_code == 200 and 'data-table="activity"' in own.content.decode()
    other = client.get(
        reverse("reports_dashboard"), {"unit": units["P"].pk, "start": today, "end": today}
    )
    assert 'data-table="activity"' not in other.content.decode()  # the form refuses the unit
    export = client.get(
        reverse("reports_dashboard"),
        {"unit": units["Y"].pk, "start": today, "end": today, "export": "csv"},
    )
    assert not export["Content-Type"].startswith("text/csv")
    outsider = make_user("khach", is_staff=True)
    client.force_login(outsider)
    assert client.get(reverse("reports_dashboard")).status_code in (302, 403)


def _selected_unit(html: str) -> str:
    select = html[html.index('name="unit"') :]
    select = select[: select.index("</select>")]
    return re.search(r'<option value="(\d+)"[^>]*selected', select).group(1)


def test_statistics_open_on_the_users_own_unit_with_its_figures(history):
    units = history["units"]
    approver = make_user("duyet_x2", unit=units["X"], role=Role.APPROVER)
    client = Client()
    client.force_login(approver)
    html = client.get(reverse("reports_dashboard")).content.decode()
    assert _selected_unit(html) == str(units["X"].pk)  # not the first province
    # Commune A's bulletin was submitted in the last 30 days: not a page of zeros.
    with translation.override("vi"):
        submitted, count = str(MEASURE_LABELS["submitted"]), translation.gettext("Count")
    bars = re.findall(r"<rect [^>]*><title>([^<]+?) — ([^<]+?): ([\d.,]+)</title></rect>", html)
    assert (submitted, count, "2") in bars  # commune A's two submissions, not zeros


def test_a_superuser_opens_on_the_province_where_the_work_is_then_on_the_last_choice(history):
    client = Client()
    client.force_login(history["admin"])
    html = client.get(reverse("reports_dashboard")).content.decode()
    assert _selected_unit(html) == str(history["units"]["P"].pk)
    # The last unit and period chosen come back next time.
    today = timezone.localdate().strftime("%d/%m/%Y")
    unit = history["units"]["X"]
    client.get(reverse("reports_dashboard"), {"unit": unit.pk, "start": today, "end": today})
    html = client.get(reverse("reports_dashboard")).content.decode()
    assert _selected_unit(html) == str(unit.pk) and html.count(f'value="{today}"') == 2
