"""What every typed input is made of: text that the database, the exports and the wire can
all hold, identifiers by pattern, integers that fit a BIGINT, and a base model that refuses
unknown fields and coercion.

PostgreSQL cannot store NUL, UTF-8 cannot encode a lone surrogate and XLSX cannot hold most
control characters, so such input is refused at the edge with a 422 naming the field,
instead of failing later inside a transaction or a consumer.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
BIGINT_MAX = 2**63 - 1


def _single_line(value: str) -> str:
    if _ANY_CONTROL.search(value):
        raise ValueError("must not hold control characters, NUL or unpaired surrogates")
    return value


def _free_text(value: str) -> str:
    if _CONTROL_BUT_LAYOUT.search(value):
        raise ValueError("must not hold control characters (newline and tab are fine), NUL or unpaired surrogates")
    return value


def clean_line(value: str) -> bool:
    """True when `value` is a single line every store and export can hold."""
    return not _ANY_CONTROL.search(value)


Line = Annotated[str, Field(strict=True), AfterValidator(_single_line)]
"""One line of text: names, titles, reasons, ids of places."""
Text = Annotated[str, Field(strict=True), AfterValidator(_free_text)]
"""Free text: newlines and tabs allowed."""
Id = Annotated[str, StringConstraints(strict=True, pattern=ID_PATTERN)]
"""An identifier of an estate, case, household or staff member."""
Count = Annotated[int, Field(strict=True, ge=0, le=BIGINT_MAX)]


def _json_string(value: Any) -> Any:
    # JSON has no date type: a date or time comes as an ISO string, never as a number
    if not isinstance(value, (str, date)):
        raise ValueError("must be an ISO 8601 string")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_json_string)]
IsoDate = Annotated[date, BeforeValidator(_json_string)]


class Input(BaseModel):
    """A request body or a part of one: unknown fields are refused. Its fields are built of
    the strict types above (and StrictBool), so "100" is not taken for 100."""

    model_config = ConfigDict(extra="forbid")
