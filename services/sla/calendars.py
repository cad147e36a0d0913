"""The group's loaded working calendars as the SLA engine reads them: one fold of the calendar
stream that intake writes, and the watch that tells operations when a year has no table."""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Callable
from zoneinfo import ZoneInfo

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from estatedesk.clock import Clock
from estatedesk.contracts import decode
from estatedesk.eventstore import EventStore
from estatedesk.operate import health
from estatedesk.streams import calendar_stream

from .domain.working_time import LoadedTable, OfficialCalendar, YearTable, missing_years

CALENDAR_SET = "WorkingCalendarSet"
GROUP_ZONE = ZoneInfo("Asia/Shanghai")
WATCH_EVERY_S = 60.0
log = logging.getLogger(__name__)
# The fold as of the stream's newest event. An event never changes and its id is unique across
# databases, so a message costs one index lookup until the group admin loads a table again.
_folded: dict[uuid.UUID, OfficialCalendar] = {}


async def loaded_calendars(conn: asyncpg.Connection) -> OfficialCalendar:
    """Every WorkingCalendarSet of the group, with the moment it was loaded."""
    head = await EventStore.latest_on(conn, calendar_stream(), CALENDAR_SET)
    if head is None:
        return OfficialCalendar()
    if head.event_id not in _folded:
        loaded = [(decode(e), e.recorded_at) for e in await EventStore.read_case_on(conn, calendar_stream())
                  if e.event_type == CALENDAR_SET]
        _folded.clear()
        _folded[head.event_id] = OfficialCalendar(tuple(
            LoadedTable(s.year, YearTable(frozenset(s.holidays), frozenset(s.working_days)), at) for s, at in loaded))
    return _folded[head.event_id]


class CalendarWatch:
    """Whether this year's and next year's working days are known (loaded or shipped with
    `chinese_calendar`): a readiness warning and the gauge `estatedesk_calendar_years_missing`."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], clock: Clock, registry: CollectorRegistry):
        self._pool, self._clock = pool, clock
        self._missing = Gauge("estatedesk_calendar_years_missing",
                              "Of this year and the next, the years with no official working calendar",
                              registry=registry)

    async def check(self) -> health.Verdict:
        async with self._pool().acquire() as conn:
            official = await loaded_calendars(conn)
        now = self._clock()
        year = now.astimezone(GROUP_ZONE).year
        missing = missing_years((year, year + 1), official.as_of(now))
        self._missing.set(len(missing))
        return health.calendar(missing)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # metrics must never take the service down
                log.warning("cannot check the working calendar; will try again", exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), WATCH_EVERY_S)
            except asyncio.TimeoutError:
                pass
