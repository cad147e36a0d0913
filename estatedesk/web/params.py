"""Typed path and query parameters shared by the services' routes.

Every value a client puts in a URL is checked here, before a handler runs: identifiers by
pattern, months within the years the statistics can compute, integers that fit a BIGINT,
free text without NUL or control characters. A bad value is a 422 naming the parameter, never
a failure inside the database driver or the date arithmetic.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from estatedesk.inputs import BIGINT_MAX, ID_PATTERN, Line

MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
"""YYYY-MM from 2000-01 to 2100-12."""
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2101, 1, 1, tzinfo=timezone.utc)


def in_range(moment: datetime) -> bool:
    """True when `moment` (naive meaning UTC) lies in 2000 … 2100: such a time converts to
    UTC and to a database timestamp; one in year 1 or 9999 may overflow on the way."""
    return EARLIEST <= (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)) < LATEST


def _moment(value: datetime) -> datetime:
    if not in_range(value):
        raise ValueError("must lie between 2000-01-01 and 2100-12-31")
    return value


YearPath = Annotated[int, Path(ge=EARLIEST.year, le=LATEST.year - 1, description="A calendar year",
                               examples=[2027])]
CaseIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="A case id", examples=["C-0123456789ABCDEF"])]
EstateIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="An estate id", examples=["E001"])]
HouseholdIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="A household id", examples=["H-3-2-1502"])]

IdQuery = Annotated[str | None, Query(pattern=ID_PATTERN)]
EstateIdQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="One estate; omit it for all of yours",
                                            examples=["E001"])]
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, 2000-01 to 2100-12",
                                  examples=["2026-10"])]
Moment = Annotated[datetime, AfterValidator(_moment)]
"""A date and time from 2000 to 2100; ISO 8601, with or without an offset (without: UTC)."""
SearchText = Annotated[Line | None, Query(min_length=1, max_length=100, description="Text in title or description")]
Position = Annotated[int | None, Query(
    ge=0, le=BIGINT_MAX,
    description="Wait briefly until the view includes this store position (from a command's answer).")]
