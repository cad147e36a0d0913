"""The group's official working calendar as versioned events: each PUT records a new
WorkingCalendarSet of its year in the group calendar stream; the newest of a year is in force."""
from __future__ import annotations

from datetime import date
from typing import Any

from estatedesk.clock import Clock
from estatedesk.contracts import Envelope
from estatedesk.contracts.events import WorkingCalendarSet
from estatedesk.eventstore import EventStore
from estatedesk.streams import GROUP_ESTATE, calendar_stream
from services.sla.domain.working_time import NO_TABLES, Tables, YearTable, published_table

from .domain.errors import InvalidCommand
from .estates import record_on_stream
from .setup_models import WorkingCalendarIn


def _of_year(events: list[Envelope], year: int) -> list[Envelope]:
    return [e for e in events if e.event_type == "WorkingCalendarSet" and e.payload["year"] == year]


async def set_calendar(store: EventStore, year: int, body: WorkingCalendarIn, *, actor: str, clock: Clock) -> int:
    """Record the next version of `year`'s table; returns that version. The one stream holds
    every year, so a load of another year moving it on only means taking the next version."""
    if errors := body.outside(year):
        raise InvalidCommand(errors)
    now = clock()

    def next_version(events: list[Envelope]) -> WorkingCalendarSet:
        return WorkingCalendarSet(year=year, version=1 + len(_of_year(events, year)), holidays=sorted(body.holidays),
                                  working_days=sorted(body.working_days), set_by=actor)

    recorded = await record_on_stream(store, calendar_stream(), GROUP_ESTATE, next_version, now, f"calendar-{year}")
    return recorded.version


def tables_in_force(year: int, events: list[Envelope]) -> Tables:
    """The loaded table of `year`, as the SLA engine's working-day arithmetic takes it."""
    loaded = _of_year(events, year)
    if not loaded:
        return NO_TABLES
    latest = loaded[-1].payload
    return {year: YearTable(frozenset(map(date.fromisoformat, latest["holidays"])),
                            frozenset(map(date.fromisoformat, latest["working_days"])))}


def calendar_in_force(year: int, events: list[Envelope]) -> dict[str, Any]:
    """`year`'s table in force: the newest loaded version, else the one `chinese_calendar`
    ships (version 0), else none (Monday to Friday)."""
    loaded = _of_year(events, year)
    if loaded:
        latest = loaded[-1]
        return {"year": year, "source": "loaded", "version": latest.payload["version"],
                "set_by": latest.payload["set_by"], "set_at": latest.recorded_at.isoformat(),
                "holidays": latest.payload["holidays"], "working_days": latest.payload["working_days"]}
    shipped = published_table(year)
    return {"year": year, "source": "default" if shipped else "none", "version": 0, "set_by": None, "set_at": None,
            "holidays": sorted(d.isoformat() for d in shipped.holidays) if shipped else [],
            "working_days": sorted(d.isoformat() for d in shipped.working_days) if shipped else []}
