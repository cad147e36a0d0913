"""One estate's daily feedback for one day, read back: the departments' reports from the
estate stream, the flags the SLA service settled in the feedback stream, judged by the same
pure rules the SLA service raises them by."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from estatedesk.eventstore import EventStore
from estatedesk.streams import calendar_stream, estate_stream, feedback_stream
from services.sla.domain.daily_feedback import day_view, escalations_of_day, rules_from
from services.sla.domain.working_time import is_working_day

from .calendar import tables_in_force
from .domain.errors import InvalidCommand
from .domain.estate import Estate


async def feedback_of_day(store: EventStore, estate_id: str, day: date | None, now: datetime) -> dict | None:
    """What each department reported for `day` (default: today, estate time), who missed
    it and which escalations followed; None when there is no such estate."""
    events = await store.read_stream(estate_stream(estate_id))
    configured = [e for e in events if e.event_type == "EstateConfigured"]
    if not configured:
        return None
    estate = Estate.from_configured(estate_id, configured[-1].payload)
    zone = ZoneInfo(estate.timezone)
    today = now.astimezone(zone).date()
    day = day or today
    if day > today:
        raise InvalidCommand([("day", f"is after today ({today}) in the estate's timezone")], part="query")
    policies = [e for e in events if e.event_type == "EstatePolicySet"]
    rules = rules_from(policies[-1].payload.get("feedback") if policies else None)
    reports = {e.payload["department"]: {"summary": e.payload["summary"], "reported_by": e.payload["reported_by"],
                                         "reported_at": e.recorded_at.isoformat()}
               for e in events if e.event_type == "DailyFeedbackReported" and e.payload["day"] == day.isoformat()}
    settled = await store.read_stream(feedback_stream(estate_id))
    tables = tables_in_force(day.year, await store.read_stream(calendar_stream()))
    flags = escalations_of_day([e.payload for e in settled if e.event_type == "EscalationRaised"], day)
    return {"estate_id": estate_id, **day_view(day, estate.departments, reports, flags, now, zone, rules,
                                               is_working_day(day, tables))}
