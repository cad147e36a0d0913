"""Consumer-side tracking: exactly-once effects on top of at-least-once delivery.

Kafka messages are treated as notifications; the event store is the truth. For a case
stream a consumer keeps the last version it applied. Whatever arrives — a duplicate, a
message after a gap (say the broker restarted empty and lost a few), or an event of
another topic that overtook the case's own events — the consumer reads the stream from
the store after its checkpoint and applies exactly what it has not yet applied. All of
it happens inside the caller's transaction, together with the consumer's own writes.
"""
from __future__ import annotations

import asyncpg

from estatedesk.contracts import Envelope

from .store import _COLUMNS, _row_to_envelope


async def lock_case(conn: asyncpg.Connection, consumer: str, case_id: str) -> None:
    """Serialise this consumer's work on one case across its agents and processes."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{consumer}/{case_id}")


async def unapplied_case_events(conn: asyncpg.Connection, consumer: str, case_id: str) -> list[Envelope]:
    """Events of the case stream this consumer has not applied; advances its checkpoint."""
    applied = await conn.fetchval(
        "SELECT version FROM stream_checkpoints WHERE consumer = $1 AND stream_id = $2", consumer, case_id
    ) or 0
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version",
        case_id, applied,
    )
    if rows:
        await conn.execute(
            "INSERT INTO stream_checkpoints (consumer, stream_id, version) VALUES ($1, $2, $3)"
            " ON CONFLICT (consumer, stream_id) DO UPDATE SET version = EXCLUDED.version",
            consumer, case_id, rows[-1]["version"],
        )
    return [_row_to_envelope(r) for r in rows]


async def first_time(conn: asyncpg.Connection, consumer: str, envelope: Envelope) -> bool:
    """True once per (consumer, event id): marks an event of a non-case topic as processed."""
    inserted = await conn.fetchval(
        "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        consumer, envelope.event_id,
    )
    return bool(inserted)

