"""Exports hold whatever cases stored: text that looks like a formula stays text, characters
XLSX cannot hold are dropped, and numbers stay numbers."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from services.analytics import export
from services.analytics.cells import UNWRITABLE, safe_cell
from services.analytics.domain.month_report import change, figures
from tests.unit.test_month_report import view

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("value, written", [
    (FORMULA, "'" + FORMULA), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("\x07=cmd", "'=cmd"), ("a=b", "a=b"), ("building 3", "building 3"),
    ("bell\x07 and \x00nul\x1f", "bell and nul"), ("lone \ud800 surrogate", "lone  surrogate"),
    ("两行\n文字", "两行\n文字"), ("", ""),
])
def test_text_cells_are_made_inert_and_writable(value, written):
    assert safe_cell(value) == written


@pytest.mark.parametrize("value", [-3, -0.25, 0, 7, 1.5, None, True])
def test_numbers_and_empty_cells_stay_as_they_are(value):
    assert safe_cell(value) is value


def test_the_removed_characters_are_the_ones_openpyxl_refuses():
    for code in range(0x20):
        assert bool(UNWRITABLE.search(chr(code))) == bool(ILLEGAL_CHARACTERS_RE.search(chr(code))), code


@given(st.text())
def test_no_text_leaves_a_formula_or_an_unwritable_character(text):
    cell = safe_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not UNWRITABLE.search(cell)
    cell.encode("utf-8")


def _hostile_report() -> dict:
    hostile = FORMULA + "\x07"
    views = [view("A", "consultation", category=hostile, departments=["-engineering"],
                  location={"building": None, "area": hostile}),
             view("B", "consultation", category="fees", location={"building": None, "area": "@front\ud800 desk"})]
    current, previous = figures(views), figures([view(c) for c in "CDEFG"])
    return {"month": "2026-10", "estate_id": "E001", **current, "change": change(current, previous)}


def test_a_hostile_report_exports_as_inert_csv():
    table = list(csv.reader(io.StringIO(export.to_csv(_hostile_report()).lstrip("\ufeff"))))
    cells = [cell for row in table for cell in row]
    assert "'" + FORMULA in cells and "'-engineering" in cells and "'@front desk" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert ["环比 / Change against last month", "total.delta", "-3"] in table
    assert ["案件总数 / Total cases", "-", "2"] in table


def test_a_hostile_report_exports_as_an_xlsx_that_opens_without_formulas():
    sheet = load_workbook(io.BytesIO(export.to_xlsx(_hostile_report()))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'" + FORMULA in values and "'@front desk" in values
    delta = next(row for row in sheet.iter_rows(values_only=True) if row[1] == "total.delta")
    assert delta[2] == -3 and isinstance(delta[2], int)


@pytest.mark.parametrize("estate_id, name", [
    ("E001", "estatedesk-E001-2026-10.csv"), (None, "estatedesk-group-2026-10.csv"),
    ('东"\r\nX-Evil: 1', "estatedesk-____X-Evil__1-2026-10.csv"),
])
def test_the_download_name_is_safe_in_a_header(estate_id, name):
    assert export.filename(estate_id, "2026-10", "csv") == name
    name.encode("latin-1")
