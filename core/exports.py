"""Spreadsheet exports that a hostile cell cannot turn into a formula: the one path for every
CSV and XLSX the project writes (proof of play, reports, the audit trail).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
as a formula by Excel, LibreOffice and Google Sheets when a CSV is opened (``=HYPERLINK(…)``
in a programme name, a subscriber name or a comment is enough). In CSV such a cell gets a
leading apostrophe (OWASP's advice: the spreadsheet shows the text, the apostrophe hidden or
visible, and runs nothing). In XLSX every text cell is written with the string type, so
openpyxl never stores it as a formula, and the characters XML cannot carry are dropped
(openpyxl would refuse the whole file). Numbers and dates stay numbers and dates.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

# The first characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Characters an XLSX (XML 1.0) cell cannot hold: the C0 controls but tab, LF and CR.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that a spreadsheet would run gets a leading apostrophe;
    anything else is returned as it is."""
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`csv_cell`."""

    def __init__(self, fileobj, **fmtparams):
        self._writer = csv.writer(fileobj, **fmtparams)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fileobj, *, bom: bool = False, **fmtparams) -> SafeCsvWriter:
    """A CSV writer on ``fileobj`` (a text stream or an ``HttpResponse``) that neutralises
    formulas; ``bom`` first writes the UTF-8 byte order mark, which spreadsheet programs need
    to read Vietnamese correctly."""
    if bom:
        fileobj.write("\ufeff")
    return SafeCsvWriter(fileobj, **fmtparams)


def xlsx_append(sheet, row: Iterable[Any]) -> None:
    """Append ``row`` to an openpyxl worksheet with every text cell stored as text (never a
    formula) and free of the characters XML cannot carry."""
    values = [_XML_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row]
    sheet.append(values)
    if not values:
        return
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl typed "=…" as a formula ("f"); this is text


__all__ = ["FORMULA_TRIGGERS", "SafeCsvWriter", "csv_cell", "csv_writer", "xlsx_append"]
