"""Driving the SLA engine: a case's new events, and time, applied exactly once."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from estatedesk.eventstore.tracking import lock_case, unapplied_events

from . import timers
from .domain.clocks import SlaCase, fire_due, observe
from .policies import policy_for

CONSUMER = "sla"


async def on_case(pool: asyncpg.Pool, case_id: str, now: datetime) -> None:
    """Apply the case's events the SLA service has not seen, then fire whatever is due."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_case(conn, CONSUMER, case_id)
        events = [e for e in await unapplied_events(conn, CONSUMER, case_id) if e.producer != "sla"]
        if not events:
            return
        sla = await timers.load_case(conn, case_id)
        if sla is None and events[0].event_type != "CaseReceived":
            return  # not a case (an estate stream) or one this service never saw begin
        first = events[0]
        sla = sla or SlaCase(case_id, first.payload)
        policy = await policy_for(conn, first.estate_id, datetime.fromisoformat(sla.case["received_at"]))
        actions = []
        for event in events:
            sla, fired = fire_due(sla, event.occurred_at, policy)  # what was due before this event happened
            actions += fired
            sla, observed = observe(sla, event.event_type, event.payload, event.occurred_at, policy,
                                    cause=str(event.event_id))
            actions += observed
        sla, fired = fire_due(sla, now, policy)
        await timers.publish(conn, case_id, first.estate_id, actions + fired, now)
        await timers.save_case(conn, first.estate_id, sla, policy)


async def fire_due_cases(pool: asyncpg.Pool, now: datetime, limit: int = 500) -> int:
    """One ticker pass over cases whose next deadline has come; returns the events fired."""
    fired_total = 0
    async with pool.acquire() as conn, conn.transaction():
        for case_id, estate_id in await timers.due_cases(conn, now, limit):
            sla = await timers.load_case(conn, case_id)
            policy = await policy_for(conn, estate_id, datetime.fromisoformat(sla.case["received_at"]))
            sla, fired = fire_due(sla, now, policy)
            await timers.publish(conn, case_id, estate_id, fired, now)
            await timers.save_case(conn, estate_id, sla, policy)
            fired_total += len(fired)
    return fired_total
