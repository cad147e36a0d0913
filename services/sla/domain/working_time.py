"""Working time of an estate: which hours count on an SLA clock.

Working days follow the official Chinese calendar: public holidays off, adjusted working
days (调休) on, every other day Monday to Friday. A year's table is the one the group admin
loaded (`OfficialCalendar`), else the one `chinese_calendar` ships; a year neither covers is
plain Monday to Friday. A span of working time counts by the tables loaded when it began, so
a deadline once announced stays where it is when the group admin loads a table later. All
arithmetic runs in the estate's own timezone; results are aware datetimes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

import chinese_calendar

MAX_DAYS_AHEAD = 3660  # a deadline further than ten years away is a configuration error


@dataclass(frozen=True)
class YearTable:
    """One year's official table: its public holidays and its adjusted working days."""

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        return day in self.working_days or (day.weekday() < 5 and day not in self.holidays)


Tables = Mapping[int, YearTable]
"""The tables in force, by year."""
NO_TABLES: Tables = MappingProxyType({})


@dataclass(frozen=True)
class LoadedTable:
    year: int
    table: YearTable
    loaded_at: datetime


@dataclass(frozen=True)
class OfficialCalendar:
    """Every table the group admin loaded, in the order loaded."""

    loaded: tuple[LoadedTable, ...] = ()

    def as_of(self, moment: datetime) -> Tables:
        """The tables in force at `moment`: per year, the newest loaded by then."""
        return {entry.year: entry.table for entry in self.loaded if entry.loaded_at <= moment}


@lru_cache(maxsize=64)
def published_table(year: int) -> YearTable | None:
    """The table `chinese_calendar` ships for `year`, or None for a year it does not cover."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    return YearTable(frozenset(d for d in chinese_calendar.holidays if d.year == year),
                     frozenset(d for d in chinese_calendar.workdays if d.year == year))


def table_for(year: int, tables: Tables = NO_TABLES) -> YearTable | None:
    """The table of `year`: the loaded one, else the shipped one, else None."""
    return tables[year] if year in tables else published_table(year)


def missing_years(years: Iterable[int], tables: Tables = NO_TABLES) -> list[int]:
    """The years among `years` that no table covers: their working days are a guess (Monday to Friday)."""
    return [year for year in years if table_for(year, tables) is None]


def is_working_day(day: date, tables: Tables = NO_TABLES) -> bool:
    table = table_for(day.year, tables)
    return table.is_working_day(day) if table is not None else day.weekday() < 5


def _parse(span: tuple[str, str] | tuple[time, time]) -> tuple[time, time]:
    return tuple(t if isinstance(t, time) else time.fromisoformat(t) for t in span)  # type: ignore[return-value]


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Asia/Shanghai"
    spans: tuple = (("08:30", "17:30"),)
    around_the_clock: bool = False
    official: OfficialCalendar = OfficialCalendar()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def working_day(self) -> timedelta:
        """The business time of one working day (what "within 1 working day" adds)."""
        if self.around_the_clock:
            return timedelta(days=1)
        return sum((datetime.combine(date.min, e) - datetime.combine(date.min, s)
                    for s, e in map(_parse, self.spans)), timedelta())

    def _windows(self, day: date, tables: Tables) -> list[tuple[datetime, datetime]]:
        if not is_working_day(day, tables):
            return []
        return [(datetime.combine(day, s, self.zone), datetime.combine(day, e, self.zone))
                for s, e in map(_parse, self.spans)]

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start`, on the tables loaded by `start`:
        a table loaded later does not move a deadline already announced."""
        if self.around_the_clock or duration <= timedelta(0):
            return start + max(duration, timedelta(0))
        local, remaining, tables = start.astimezone(self.zone), duration, self.official.as_of(start)
        for offset in range(MAX_DAYS_AHEAD):
            for opens, closes in self._windows(local.date() + timedelta(days=offset), tables):
                begin = max(opens, local)
                if begin >= closes:
                    continue
                if remaining <= closes - begin:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= closes - begin
        raise ValueError(f"no working time within {MAX_DAYS_AHEAD} days of {start}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from `start` to `end` (nothing if end is not after start), on
        the tables loaded by `start`."""
        if end <= start:
            return timedelta(0)
        if self.around_the_clock:
            return end - start
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        total, day, tables = timedelta(0), local_start.date(), self.official.as_of(start)
        while day <= local_end.date():
            for opens, closes in self._windows(day, tables):
                overlap = min(closes, local_end) - max(opens, local_start)
                total += max(overlap, timedelta(0))
            day += timedelta(days=1)
        return total
