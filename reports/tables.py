"""A report as plain tables (title, header, rows): the HTML page, CSV and XLSX share them."""

import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import csv_writer, xlsx_append

from .selectors import MEASURE_LABELS, MEASURES, Report


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list]


def _breakdown(key: str, title: str, first: str, data: dict[str, dict[str, int]]) -> Table:
    header = [first] + [str(MEASURE_LABELS[m]) for m in MEASURES]
    rows = [[name] + [counts[m] for m in MEASURES] for name, counts in data.items()]
    return Table(key, title, header, rows)


def report_tables(report: Report) -> list[Table]:
    activity = report.activity
    tables = [
        Table(
            "activity",
            _("Newsroom activity"),
            [_("Measure"), _("Count")],
            [[str(MEASURE_LABELS[m]), activity.totals[m]] for m in MEASURES],
        ),
        _breakdown("by_kind", _("By type"), _("Type"), activity.by_kind),
        _breakdown("by_category", _("By category"), _("Category"), activity.by_category),
        Table(
            "approval",
            _("Time to approve per level (hours)"),
            [_("Level"), _("Approved steps"), _("Median"), _("90th percentile")],
            [
                [row["label"], row["steps"], row["median_hours"], row["p90_hours"]]
                for row in report.approval
            ],
        ),
    ]
    speakers = report.loudspeakers
    if speakers.get("available"):
        tables.append(
            Table(
                "playback",
                _("Loudspeaker hours per commune"),
                [_("Commune"), _("Code"), _("Devices"), _("Scheduled"), _("Played"), _("Ratio")],
                [
                    [
                        r["commune"],
                        r["code"],
                        r["devices"],
                        r["scheduled_hours"],
                        r["played_hours"],
                        r["played_ratio"],
                    ]
                    for r in speakers["playback"]
                ],
            )
        )
        tables.append(
            Table(
                "uptime",
                _("Device uptime per commune"),
                [_("Commune"), _("Code"), _("Devices"), _("Uptime"), _("Failures")],
                [
                    [r["commune"], r["code"], r["devices"], r["uptime_ratio"], r["failures"]]
                    for r in speakers["uptime"]
                ],
            )
        )
    deliveries = report.deliveries
    if deliveries.get("available"):
        states = [k for k in deliveries.get("totals", {}) if k != "total"]
        labels = deliveries.get("labels", {})
        tables.append(
            Table(
                "deliveries",
                _("Feed and push deliveries"),
                [_("Subscriber"), _("Total"), *[labels.get(s, s) for s in states]],
                [
                    [s["name"], s["total"], *[s.get(state, 0) for state in states]]
                    for s in deliveries["subscribers"]
                ]
                + [
                    [_("Total"), deliveries["totals"].get("total", 0)]
                    + [deliveries["totals"].get(state, 0) for state in states]
                ],
            )
        )
    return tables


def _period_line(report: Report) -> list[str]:
    start = timezone.localtime(report.period.start).strftime("%d/%m/%Y")
    end = timezone.localtime(report.period.end).strftime("%d/%m/%Y")
    return [_("Unit"), report.unit.name, _("From"), start, _("Until (exclusive)"), end]


def report_csv(report: Report) -> str:
    """All tables one after another, each under its title, separated by a blank line
    (names that a spreadsheet would run as formulas are neutralised: core.exports)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(_period_line(report))
    for table in report_tables(report):
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.header)
        writer.writerows(table.rows)
    return out.getvalue()


def report_xlsx(report: Report) -> bytes:
    """One worksheet per table, with the unit and period on the first sheet; every text
    cell is stored as text, never as a formula (core.exports)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = True
    for table in report_tables(report):
        sheet = book.active if first else book.create_sheet()
        sheet.title = table.key[:31]
        if first:
            xlsx_append(sheet, _period_line(report))
            sheet.append([])
            first = False
        xlsx_append(sheet, [table.title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        xlsx_append(sheet, table.header)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in table.rows:
            xlsx_append(sheet, row)
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 50)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
