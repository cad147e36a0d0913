"""Applying case and dispatch events to the obligations, exactly once per event."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from estatedesk.contracts import Envelope
from estatedesk.eventstore.tracking import first_time, lock_case, unapplied_case_events

from . import timers
from .domain.obligations import met_by, opened_by

CONSUMER = "sla"


async def on_event(pool: asyncpg.Pool, envelope: Envelope, now: datetime) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await lock_case(conn, CONSUMER, envelope.case_id)
        # The case stream first: a dispatch decision may overtake the CaseReceived it answers.
        for case_event in await unapplied_case_events(conn, CONSUMER, envelope.case_id):
            for ob in opened_by(case_event.case_id, case_event.event_type, case_event.payload):
                await timers.open_obligation(conn, ob, case_event, now)
        if envelope.stream_version is None and await first_time(conn, CONSUMER, envelope):
            met_at = datetime.fromisoformat(envelope.payload.get("dispatched_at", envelope.occurred_at.isoformat()))
            for obligation_id in met_by(envelope.case_id, envelope.event_type, envelope.payload):
                await timers.meet_obligation(conn, obligation_id, met_at, envelope, now)
