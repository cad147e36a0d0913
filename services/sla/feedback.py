"""Department daily feedback (002 §4.7): the I/O around `domain.daily_feedback`. Each pass
reads, per estate, its departments, its feedback policy, the reports and the flags already
raised, and records whatever the domain says is due, each under an id derived from its
department, day and level, so a flag is raised once whatever the number of passes."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from estatedesk.streams import estate_stream, feedback_stream
from estatedesk.contracts import Envelope, derived_event_id
from estatedesk.eventstore import record

from .calendars import loaded_calendars
from .domain.daily_feedback import RULE, Flag, due_flags, escalations_of_day, rules_from
from .domain.working_time import Tables, is_working_day

NOT_A_DEPARTMENT = frozenset({"estate_manager"})
log = logging.getLogger(__name__)


async def flag_missing_feedback(pool: asyncpg.Pool, now: datetime) -> int:
    """Raise the feedback flags due by `now` in every estate; returns the events recorded."""
    flagged = 0
    async with pool.acquire() as conn, conn.transaction():
        tables = (await loaded_calendars(conn)).as_of(now)
        estates = await conn.fetch(
            "SELECT DISTINCT ON (stream_id) estate_id, payload FROM events"
            " WHERE event_type = 'EstateConfigured' ORDER BY stream_id, version DESC")
        for estate in estates:
            try:  # one estate's broken set-up must not stop the check of the whole group
                async with conn.transaction():
                    flagged += await _settle_estate(conn, estate["estate_id"], json.loads(estate["payload"]), now,
                                                    tables)
            except (ValueError, KeyError, TypeError, AttributeError, ZoneInfoNotFoundError):
                log.exception("daily feedback of estate %s skipped: its set-up cannot be read", estate["estate_id"],
                              extra={"estate_id": estate["estate_id"]})
    return flagged


async def feedback_block(conn, estate_id: str) -> dict | None:
    raw = await conn.fetchval("SELECT payload->'feedback' FROM events WHERE stream_id = $1"
                              " AND event_type = 'EstatePolicySet' ORDER BY version DESC LIMIT 1",
                              estate_stream(estate_id))
    return json.loads(raw) if raw else None


def departments_of(config: dict) -> list[str]:
    return sorted(set(config.get("staff", {})) - NOT_A_DEPARTMENT)


async def reported_departments(conn, estate_id: str, day) -> set[str]:
    rows = await conn.fetch("SELECT payload->>'department' AS d FROM events WHERE stream_id = $1"
                            " AND event_type = 'DailyFeedbackReported' AND payload->>'day' = $2",
                            estate_stream(estate_id), day.isoformat())
    return {r["d"] for r in rows}


async def _raised(conn, estate_id: str, day) -> set[tuple[str, int]]:
    rows = await conn.fetch("SELECT payload FROM events WHERE stream_id = $1 AND event_type = 'EscalationRaised'",
                            feedback_stream(estate_id))
    return {(f["department"], f["level"]) for f in escalations_of_day([json.loads(r["payload"]) for r in rows], day)}


async def _settle_estate(conn, estate_id: str, config: dict, now: datetime, tables: Tables) -> int:
    zone = ZoneInfo(config.get("timezone") or "Asia/Shanghai")
    rules = rules_from(await feedback_block(conn, estate_id))
    today = now.astimezone(zone).date()
    flags: list[Flag] = []
    for day in (today - timedelta(days=1), today):  # a late due time's manager step falls on the next day
        flags += due_flags(day, departments_of(config), await reported_departments(conn, estate_id, day),
                           await _raised(conn, estate_id, day), now, zone, rules, is_working_day(day, tables))
    envelopes = []
    for f in flags:
        common = dict(case_id=estate_stream(estate_id), estate_id=estate_id, occurred_at=f.at, recorded_at=now,
                      producer="sla", correlation_id=f"feedback-{estate_id}-{f.day}")
        if f.level == 1:
            envelopes.append(Envelope(event_id=derived_event_id("feedback", estate_id, f.department, f.day),
                                      event_type="DailyFeedbackMissed", **common,
                                      payload={"department": f.department, "day": f.day.isoformat(),
                                               "due_at": f.at.isoformat()}))
        envelopes.append(Envelope(
            event_id=derived_event_id("feedback-escalation", estate_id, f.department, f.day, f.level),
            event_type="EscalationRaised", **common,
            payload={"level": f.level, "to_role": f.to_role, "rule": RULE, "obligation_id": f.obligation_id,
                     "raised_at": f.at.isoformat(),
                     "reason": f"{f.department} has not sent its daily feedback for {f.day}"}))
    if envelopes:
        await record(conn, feedback_stream(estate_id), envelopes)
    return len(envelopes)
