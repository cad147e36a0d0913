"""Command-line values checked before any request: the same patterns the APIs enforce, so a
mistyped month or id is a usage error here rather than a 422 from a service."""
from __future__ import annotations

import argparse
import re
from typing import Callable

from estatedesk.inputs import ID_PATTERN
from estatedesk.web.params import MONTH_PATTERN

REPORT_FORMATS = ("csv", "xlsx")
# fullmatch: `$` alone would also take a value with a trailing newline
_MONTH, _ID = re.compile(MONTH_PATTERN), re.compile(ID_PATTERN)


def month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM between 2000-01 and 2100-12: {value!r}")
    return value


def identifier(what: str) -> Callable[[str], str]:
    """An argument type for the id of `what` (an estate, a case)."""
    def checked(value: str) -> str:
        if not _ID.fullmatch(value):
            raise argparse.ArgumentTypeError(
                f"not {what} id (a letter or digit, then letters, digits and _.:- up to 64 in all): {value!r}")
        return value

    return checked
