"""The timer store: open obligations in Postgres, found by a partial index on due time.

Why Postgres and not a faust table: a timer's state change (open → breached) and the
event announcing it must commit together, or a crash between them either loses or
repeats an escalation. With the obligation row and the outbox row in one transaction,
a timer fires exactly once; restart recovery is nothing more than the next query,
because the pending timers never left the database. Capacity and lateness at 10^6
pending timers are measured by bench/sla_timers.py.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from estatedesk.contracts import Envelope, derived_event_id, encode
from estatedesk.contracts.events import SlaBreached, SlaClockStarted, SlaMet
from estatedesk.eventstore import record

from .domain.obligations import Obligation


def _sla_envelope(payload, obligation_id: str, kind: str, case_id: str, estate_id: str,
                  occurred_at: datetime, now: datetime, correlation_id: str, causation_id: str | None) -> Envelope:
    return Envelope(
        event_id=derived_event_id("sla", obligation_id, kind), event_type=type(payload).event_type(),
        case_id=case_id, estate_id=estate_id, occurred_at=occurred_at, recorded_at=now,
        producer="sla", correlation_id=correlation_id, causation_id=causation_id, payload=encode(payload),
    )


async def _record(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    """SLA events are stored per case (stream `<case>/sla`) and published through the outbox."""
    for envelope in envelopes:
        await record(conn, f"{envelope.case_id}/sla", [envelope])


async def open_obligation(conn: asyncpg.Connection, ob: Obligation, cause: Envelope, now: datetime) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO sla_obligations (obligation_id, case_id, estate_id, rule, started_at, due_at, correlation_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
        ob.obligation_id, ob.case_id, cause.estate_id, ob.rule, ob.started_at, ob.due_at, cause.correlation_id,
    )
    if inserted:
        started = SlaClockStarted(obligation_id=ob.obligation_id, rule=ob.rule,
                                  started_at=ob.started_at, due_at=ob.due_at)
        await _record(conn, [_sla_envelope(started, ob.obligation_id, "started", ob.case_id, cause.estate_id,
                                           ob.started_at, now, cause.correlation_id, str(cause.event_id))])
    return bool(inserted)


async def meet_obligation(conn: asyncpg.Connection, obligation_id: str, met_at: datetime,
                          cause: Envelope, now: datetime) -> bool:
    row = await conn.fetchrow(
        "UPDATE sla_obligations SET state = 'met', met_at = $2"
        " WHERE obligation_id = $1 AND state = 'open' RETURNING *",
        obligation_id, met_at,
    )
    if row is None:
        await conn.execute(
            "UPDATE sla_obligations SET met_at = $2 WHERE obligation_id = $1 AND met_at IS NULL",
            obligation_id, met_at,
        )
        return False
    met = SlaMet(obligation_id=obligation_id, rule=row["rule"], due_at=row["due_at"], met_at=met_at,
                 elapsed_seconds=(met_at - row["started_at"]).total_seconds())
    await _record(conn, [_sla_envelope(met, obligation_id, "met", row["case_id"], row["estate_id"],
                                       met_at, now, row["correlation_id"], str(cause.event_id))])
    return True


async def fire_due(pool: asyncpg.Pool, now: datetime, limit: int = 1000) -> int:
    """Breach every open obligation due by `now`; each fires once, with its event, atomically."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "UPDATE sla_obligations SET state = 'breached', breached_at = due_at"
            " WHERE obligation_id IN (SELECT obligation_id FROM sla_obligations"
            "   WHERE state = 'open' AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING *",
            now, limit,
        )
        await _record(conn, [
            _sla_envelope(SlaBreached(obligation_id=r["obligation_id"], rule=r["rule"], due_at=r["due_at"],
                                      breached_at=r["due_at"]),
                          r["obligation_id"], "breached", r["case_id"], r["estate_id"], r["due_at"], now,
                          r["correlation_id"], None)
            for r in rows
        ])
    return len(rows)


async def pending_count(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM sla_obligations WHERE state = 'open'")
