"""The writers every export uses: text that looks like a formula stays text."""

import csv
import io

from openpyxl import load_workbook

from learntrace.core.spreadsheets import csv_lines, xlsx_bytes

ROWS = [["E001", "=HYPERLINK(\"http://x\",\"click\")", 2.5, None], ["E002", "-5 bonus", -5, "@SUM(A1)"]]


def test_csv_starts_with_a_byte_order_mark_and_quotes_formulas():
    text = "".join(csv_lines(["number", "name", "hours", "note"], ROWS))
    assert text.startswith("\ufeffnumber,")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == ["E001", "'=HYPERLINK(\"http://x\",\"click\")", "2.5", ""]
    assert rows[2] == ["E002", "'-5 bonus", "-5", "'@SUM(A1)"]


def test_xlsx_keeps_formulas_as_text_and_numbers_as_numbers():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["number", "name", "hours", "note"], ROWS, "sheet"))).active
    name = sheet["B2"]
    assert name.value == "=HYPERLINK(\"http://x\",\"click\")" and name.data_type == "s"
    assert sheet["C2"].value == 2.5 and sheet["C3"].value == -5 and sheet["D2"].value is None
