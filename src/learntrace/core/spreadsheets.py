"""Writing spreadsheets: CSV streamed line by line and XLSX in constant memory, for every export.

Text that a spreadsheet would take for a formula is written as text (a name such as
"=HYPERLINK(...)" typed into an import stays a name when HR opens the file)."""

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_TIME = "yyyy-mm-dd hh:mm"  # how dates and times show in XLSX cells


# What makes Excel or LibreOffice read a CSV cell as a formula (a tab or carriage return first
# is skipped by some of them, and what follows is then read as a formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class KeepAsText(str):
    """A number Excel must keep as text, such as an 18-digit ID number: bare in a CSV, Excel makes it
    1.10101E+17 and zeroes its last three digits. Written as ="…" in CSV, which Excel shows as the
    text itself; only letters, digits and hyphens are written so, which no formula can hide in."""


def _csv_value(value):
    if isinstance(value, KeepAsText) and re.fullmatch(r"[0-9A-Za-z-]+", value):
        return f'="{value}"'
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a name such as "=HYPERLINK(...)" stays text when the file is opened in Excel
    return value


class _Line:
    """A file-like object that hands back what csv.writer writes, line by line."""

    def write(self, value):
        return value


def csv_lines(headers: list[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV with a byte-order mark, so Excel opens the Chinese text as UTF-8."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(headers)
    for row in rows:
        yield writer.writerow([_csv_value(value) for value in row])


def write_csv(path, headers, rows, progress=None) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for count, line in enumerate(csv_lines(headers, rows)):
            handle.write(line)
            if progress and count % 2000 == 0:
                progress(count)
    return count


def write_xlsx(path, headers, rows, progress=None, sheet_name="", date_format=DATE_TIME) -> int:
    """XlsxWriter in constant-memory mode (rows must be written in order; each is flushed as it goes)."""
    return write_xlsx_sheets(path, [(sheet_name or "report", headers, rows)], progress, date_format)


def write_xlsx_sheets(path, sheets: Iterable[tuple[str, list, Iterable[list]]], progress=None,
                      date_format=DATE_TIME) -> int:
    """Several sheets, each (name, headers, rows), in one workbook; the number of rows written.
    Strings are always written as strings: never a formula, a number or a link."""
    import xlsxwriter  # here: web processes that never export need not hold it

    target = path if hasattr(path, "write") else str(path)  # a file name, or an open file
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True,
                                               "default_date_format": date_format,
                                               "strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    count = 0
    for sheet_name, headers, rows in sheets:
        sheet = workbook.add_worksheet(str(sheet_name)[:31])
        rows = iter(rows)
        first = next(rows, None)
        # Columns as wide as their header or first value, the header row frozen and filterable.
        for column, width in enumerate(_widths(headers, first)):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, headers, bold)
        write_row = sheet.write_row
        line = 0
        for line, row in enumerate(itertools.chain([first] if first is not None else [], rows), start=1):
            write_row(line, 0, [_xlsx_value(value) for value in row])
            count += 1
            if progress and count % 2000 == 0:
                progress(count)
        if headers:
            sheet.autofilter(0, 0, line, len(headers) - 1)
    workbook.close()
    return count


def _xlsx_value(value):
    """Times to the second: Excel shows a date, not a fraction of a second nobody asked for."""
    if isinstance(value, dt.datetime) and value.microsecond:
        return value.replace(microsecond=0)
    return value


def _shown_width(value) -> int:
    """Characters a value takes in a cell; a Chinese character takes two."""
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _widths(headers: list, first: list | None) -> list[int]:
    values = list(first or [])
    return [min(max(_shown_width(header), _shown_width(values[column]) if column < len(values) else 0, 8) + 2, 50)
            for column, header in enumerate(headers)]


def xlsx_bytes(headers, rows, sheet_name="", date_format=DATE_TIME) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows, sheet_name=sheet_name, date_format=date_format)
    return buffer.getvalue()


def xlsx_sheets_bytes(sheets: Iterable[tuple[str, list, Iterable[list]]]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx_sheets(buffer, sheets)
    return buffer.getvalue()


def csv_bytes(headers: list[str], rows: Iterable[list]) -> bytes:
    return "".join(csv_lines(headers, rows)).encode("utf-8")
