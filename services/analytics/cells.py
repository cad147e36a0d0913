"""Cells an export can hold whatever was stored: inert in a spreadsheet, writable as XLSX.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is taken for
a formula by spreadsheet programs (openpyxl even writes it as one), so a resident's
`=HYPERLINK(...)` would run on the reader's machine; such a cell gets a leading `'`, as
OWASP's CSV-injection advice has it. Control characters XLSX cannot hold, and lone
surrogates UTF-8 cannot encode, are removed: values stored before the edge refused them
must not make an export fail. Numbers stay numbers, a negative count included.
"""
from __future__ import annotations

import re
from numbers import Number
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
"""openpyxl's ILLEGAL_CHARACTERS_RE, and lone surrogates."""
MAX_CELL_TEXT = 32_767  # Excel's limit for the text of one cell


def safe_text(text: str) -> str:
    text = UNWRITABLE.sub("", text)[:MAX_CELL_TEXT - 1]
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: Any) -> Any:
    """What to write for `value`: numbers, booleans and empty cells as they are, text made safe."""
    if value is None or isinstance(value, Number):
        return value
    return safe_text(value if isinstance(value, str) else str(value))

