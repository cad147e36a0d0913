"""The timer store: one row per case with its clocks and the next moment it is due.

Why Postgres: a clock's state change (open → breached) and the event announcing it commit
in one transaction with the outbox row, so a timer fires exactly once whatever crashes;
and restart recovery is nothing but the next query, because pending timers never leave
the database. A partial index on `next_due_at` keeps that query cheap with a million
pending timers. bench/sla_timers.py measures it as it runs: lateness from due to commit with
a million pending, exactly once for every obligation, and a SIGKILLed worker's catch-up.
"""
from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from estatedesk.contracts import Envelope, derived_event_id
from estatedesk.eventstore import record

from .domain.clocks import Action, SlaCase, dump, load, next_due
from .domain.sla_policy import SlaPolicy


async def load_case(conn: asyncpg.Connection, case_id: str) -> SlaCase | None:
    """The case's clocks, locked until the caller's transaction ends."""
    raw = await conn.fetchval("SELECT state FROM sla_cases WHERE case_id = $1 FOR UPDATE", case_id)
    return load(json.loads(raw)) if raw else None


async def save_case(conn: asyncpg.Connection, estate_id: str, sla: SlaCase, policy: SlaPolicy) -> None:
    await conn.execute(
        "INSERT INTO sla_cases (case_id, estate_id, state, next_due_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (case_id) DO UPDATE SET state = EXCLUDED.state, next_due_at = EXCLUDED.next_due_at",
        sla.case_id, estate_id, json.dumps(dump(sla)), next_due(sla, policy))


async def publish(conn: asyncpg.Connection, case_id: str, estate_id: str, actions: list[Action],
                  now: datetime) -> None:
    """Store the actions as SLA events (stream `<case>/sla`), each with an id derived from its key."""
    if actions:
        await record(conn, f"{case_id}/sla", [
            Envelope(event_id=derived_event_id("sla", a.key), event_type=a.event_type, case_id=case_id,
                     estate_id=estate_id, occurred_at=a.at, recorded_at=now, producer="sla",
                     correlation_id=case_id, causation_id=None,
                     payload={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in a.payload.items()})
            for a in actions])


async def due_cases(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(case, estate) pairs with something due, locked for this transaction; other workers skip them."""
    rows = await conn.fetch(
        "SELECT case_id, estate_id FROM sla_cases WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT $2"
        " FOR UPDATE SKIP LOCKED", now, limit)
    return [(r["case_id"], r["estate_id"]) for r in rows]


async def pending_count(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM sla_cases WHERE next_due_at IS NOT NULL")
