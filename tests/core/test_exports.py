"""Every CSV and XLSX export is safe to open in a spreadsheet: a name or comment that starts
like a formula (``=HYPERLINK(…)``, ``+1``, ``-1``, ``@SUM``, a tab, a carriage return) is shown
as text and never run, and numbers stay numbers."""

import csv
import io
import zipfile

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
