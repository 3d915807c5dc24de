"""The writers every export uses: text that looks like a formula stays text."""

import csv
import io

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from learntrace.core.spreadsheets import csv_bytes, csv_lines, xlsx_bytes, xlsx_sheets_bytes

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


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_quoted_in_csv_and_text_in_xlsx(prefix):
    value = prefix + "HYPERLINK(\"http://x\",\"y\")"
    text = "".join(csv_lines(["name"], [[value], ["plain"]]))
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [["name"], ["'" + value], ["plain"]]
    cell = load_workbook(io.BytesIO(xlsx_bytes(["name"], [[value]]))).active["A2"]
    assert unescape(cell.value) == value and cell.data_type == "s"  # a carriage return is stored as _x000D_


def test_several_sheets_in_one_workbook():
    book = load_workbook(io.BytesIO(xlsx_sheets_bytes([("first", ["a"], [["=1+1"]]), ("second", ["b"], [[2]])])))
    assert book.sheetnames == ["first", "second"]
    assert book["first"]["A2"].value == "=1+1" and book["first"]["A2"].data_type == "s"
    assert book["second"]["A2"].value == 2
    assert csv_bytes(["a"], [["@x"]]) == "\ufeffa\r\n'@x\r\n".encode()
