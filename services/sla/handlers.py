"""Applying case and dispatch events to the obligations, exactly once per event."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from estatedesk.eventstore.tracking import lock_case, unapplied_events

from . import timers
from .domain.obligations import met_by, opened_by

CONSUMER = "sla"


async def on_case(pool: asyncpg.Pool, case_id: str, now: datetime) -> None:
    """Apply the case's events the SLA service has not seen to its obligations."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_case(conn, CONSUMER, case_id)
        for event in await unapplied_events(conn, CONSUMER, case_id):
            for ob in opened_by(event.case_id, event.event_type, event.payload):
                await timers.open_obligation(conn, ob, event, now)
            for obligation_id in met_by(event.case_id, event.event_type, event.payload):
                await timers.meet_obligation(conn, obligation_id, event.occurred_at, event, now)
