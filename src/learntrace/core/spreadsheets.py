"""Writing spreadsheets: CSV streamed line by line and XLSX in constant memory, for every export.

Text that a spreadsheet would take for a formula is written as text (a name such as
"=HYPERLINK(...)" typed into an import stays a name when HR opens the file)."""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

import xlsxwriter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


FORMULA_STARTS = ("=", "+", "-", "@")


def _csv_value(value):
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


def write_xlsx(path, headers, rows, progress=None, sheet_name="") -> int:
    """XlsxWriter in constant-memory mode (rows must be written in order; each is flushed as it goes)."""
    target = path if hasattr(path, "write") else str(path)  # a file name, or an open file
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True,
                                               "default_date_format": "yyyy-mm-dd hh:mm",
                                               "strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    sheet = workbook.add_worksheet((sheet_name or "report")[:31])
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, headers, bold)
    write_row = sheet.write_row
    count = 0
    for count, row in enumerate(rows, start=1):
        write_row(count, 0, row)
        if progress and count % 2000 == 0:
            progress(count)
    workbook.close()
    return count


def xlsx_bytes(headers, rows, sheet_name="") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows, sheet_name=sheet_name)
    return buffer.getvalue()
