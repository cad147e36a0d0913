"""Department daily feedback (002 §4.7): by 17:00 estate time on each working day every
department reports the day's work orders; one that has not is flagged, once."""
from __future__ import annotations

import json
import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from estatedesk.streams import estate_stream, feedback_stream
from estatedesk.contracts import Envelope, derived_event_id
from estatedesk.eventstore import record

from .domain.working_time import is_working_day

FEEDBACK_DUE = time(17, 0)
NOT_A_DEPARTMENT = frozenset({"estate_manager"})
log = logging.getLogger(__name__)


async def flag_missing_feedback(pool: asyncpg.Pool, now: datetime) -> int:
    """Settle today's feedback of every estate whose 17:00 has passed; returns the flags raised."""
    flagged = 0
    async with pool.acquire() as conn, conn.transaction():
        estates = await conn.fetch(
            "SELECT DISTINCT ON (stream_id) estate_id, payload FROM events"
            " WHERE event_type = 'EstateConfigured' ORDER BY stream_id, version DESC")
        for estate in estates:
            try:  # one estate's broken set-up must not stop the check of the whole group
                async with conn.transaction():
                    flagged += await _settle_estate(conn, estate["estate_id"], json.loads(estate["payload"]), now)
            except (ValueError, KeyError, TypeError, AttributeError, ZoneInfoNotFoundError):
                log.exception("daily feedback of estate %s skipped: its set-up cannot be read", estate["estate_id"],
                              extra={"estate_id": estate["estate_id"]})
    return flagged


async def _settle_estate(conn, estate_id: str, config: dict, now: datetime) -> int:
    zone = ZoneInfo(config.get("timezone") or "Asia/Shanghai")
    local = now.astimezone(zone)
    if not is_working_day(local.date()) or local.time() < FEEDBACK_DUE:
        return 0
    return sum([await _settle(conn, estate_id, department, local, zone, now)
                for department in sorted(set(config.get("staff", {})) - NOT_A_DEPARTMENT)])


async def _settle(conn, estate_id: str, department: str, local: datetime, zone: ZoneInfo, now: datetime) -> int:
    day = local.date()
    if await conn.fetchval("SELECT 1 FROM daily_feedback_checks WHERE estate_id = $1 AND department = $2"
                           " AND day = $3", estate_id, department, day):
        return 0
    reported = await conn.fetchval(
        "SELECT 1 FROM events WHERE stream_id = $1 AND event_type = 'DailyFeedbackReported'"
        " AND payload->>'department' = $2 AND payload->>'day' = $3", estate_stream(estate_id), department, day.isoformat())
    await conn.execute("INSERT INTO daily_feedback_checks (estate_id, department, day, outcome) VALUES ($1, $2, $3, $4)",
                       estate_id, department, day, "reported" if reported else "missed")
    if reported:
        return 0
    due = datetime.combine(day, FEEDBACK_DUE, zone)
    await record(conn, feedback_stream(estate_id), [Envelope(
        event_id=derived_event_id("feedback", estate_id, department, day), event_type="DailyFeedbackMissed",
        case_id=estate_stream(estate_id), estate_id=estate_id, occurred_at=due, recorded_at=now, producer="sla",
        correlation_id=f"feedback-{estate_id}-{day}",
        payload={"department": department, "day": day.isoformat(), "due_at": due.isoformat()})])
    return 1
