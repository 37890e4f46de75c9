"""Every CSV and XLSX export is safe to open in a spreadsheet: a name or comment that starts
like a formula (``=HYPERLINK(…)``, ``+1``, ``-1``, ``@SUM``, a tab, a carriage return) is shown
as text and never run, and numbers stay numbers."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from core.exports import FORMULA_TRIGGERS, csv_writer, xlsx_append

HOSTILE = [
    '=HYPERLINK("http://127.0.0.1:9/?leak="&A1,"Bấm vào đây")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_every_trigger_is_covered():
    assert {cell[0] for cell in HOSTILE} == set(FORMULA_TRIGGERS)


def test_csv_cells_that_would_run_are_shown_as_text_and_numbers_stay_numbers():
    out = io.StringIO()
    writer = csv_writer(out, bom=True)
    writer.writerow(["Tên", "Số"])
    writer.writerows([[text, -5] for text in HOSTILE])
    writer.writerow(["Xã Tân Đồng", 12.5])

    content = out.getvalue()
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:-1]] == ["'" + text for text in HOSTILE]
    assert [r[1] for r in rows[1:-1]] == ["-5"] * len(HOSTILE)  # a number, not neutralised
    assert rows[-1] == ["Xã Tân Đồng", "12.5"]


def test_xlsx_cells_are_text_never_formulas():
    book = Workbook()
    for text in HOSTILE:
        xlsx_append(book.active, [text, 7])
    xlsx_append(book.active, ["nul\x00 and bell\x07 removed", 1])
    out = io.BytesIO()
    book.save(out)

    sheet_xml = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml  # no formula element at all
    read = load_workbook(io.BytesIO(out.getvalue())).active
    cells = list(read.iter_rows(values_only=False))
    assert [row[0].value for row in cells[: len(HOSTILE)]] == HOSTILE  # the text, unchanged
    assert all(row[0].data_type == "s" for row in cells)
    assert all(row[1].value == 7 and row[1].data_type == "n" for row in cells[: len(HOSTILE)])
    assert cells[-1][0].value == "nul and bell removed"


# --- the exports users download ------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_csv_shows_a_hostile_comment_as_text():
    from django.test import Client
    from django.urls import reverse

    from newsroom.models import Role
    from newsroom.services import item_create, item_review, item_submit
    from tests.factories import make_tree, make_user

    tree = make_tree(three_level=True)
    reporter = make_user("pv_audit", unit=tree["A"], role=Role.REPORTER)
    approver = make_user("duyet_audit", unit=tree["A"], role=Role.APPROVER)
    item = item_create(user=reporter, unit=tree["A"], headline="Tin", distribution="commune")
    item_submit(user=reporter, item=item)
    comment = '\t=HYPERLINK("http://127.0.0.1:9/","Xem")'
    item_review(user=approver, item=item, action="reject", comment=comment)
    client = Client()
    client.force_login(approver)

    response = client.get(reverse("newsroom_item_audit", args=[item.pk]) + "?format=csv")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    reject = next(r for r in rows if r[2] == "wagtail.workflow.reject")
    assert reject[7] == "'" + comment


@pytest.mark.django_db
def test_report_csv_and_xlsx_show_a_hostile_category_name_as_text():
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from newsroom.models import Category, Role
    from newsroom.services import item_create, item_submit
    from tests.factories import make_tree, make_user

    tree = make_tree(three_level=True)
    admin = get_user_model().objects.create_superuser("quantri_x", password="x")
    reporter = make_user("pv_x", unit=tree["A"], role=Role.REPORTER)
    name = '=HYPERLINK("http://127.0.0.1:9/?d="&A1,"Y tế")'
    category = Category.objects.create(slug="doc-hai", name=name)
    item = item_create(user=reporter, unit=tree["A"], headline="Tin", category=category)
    item_submit(user=reporter, item=item)
    client = Client()
    client.force_login(admin)
    today = timezone.localdate().strftime("%d/%m/%Y")
    params = {"unit": tree["P"].pk, "start": today, "end": today}

    exported = client.get(reverse("reports_dashboard"), {**params, "export": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert ["'" + name, "1"] == next(r for r in rows if r and name in r[0])[:2]

    xlsx = client.get(reverse("reports_dashboard"), {**params, "export": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value == name]
    assert cells and all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in xml for xml in sheets)
