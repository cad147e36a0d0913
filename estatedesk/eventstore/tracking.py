"""Consumer-side tracking: exactly-once effects on top of at-least-once delivery.

Every service stores its events (case, dispatch and SLA streams all carry the case id), so
a Kafka message is only a notification that a case has news. On any message a consumer
reads that case's events from the store after the last global position it applied, in
position order, and applies exactly those — inside its own transaction, together with its
effects. Duplicates find nothing new; a message lost by the broker (a memory-storage
broker that restarted) is made up by the next one about the case; a dispatch decision
that overtakes its CaseReceived is applied after it, as in the store. Because positions
follow commit order, a live consumer applies each case's events in the same order as a
rebuild from the store does.
"""
from __future__ import annotations

import asyncpg

from estatedesk.contracts import Envelope

from .store import _COLUMNS, _row_to_envelope


async def lock_case(conn: asyncpg.Connection, consumer: str, case_id: str) -> None:
    """Serialise this consumer's work on one case across its agents and processes."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{consumer}/{case_id}")


async def unapplied_events(conn: asyncpg.Connection, consumer: str, case_id: str) -> list[Envelope]:
    """The case's events this consumer has not applied, in store order; advances its checkpoint."""
    # One round trip for the checkpoint and what lies after it; the caller holds the case's
    # lock already (taken in an earlier statement, so this one's snapshot sees the checkpoint
    # the previous holder committed).
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE case_id = $2 AND position > coalesce("
        "(SELECT position FROM case_positions WHERE consumer = $1 AND case_id = $2), 0) ORDER BY position",
        consumer, case_id,
    )
    if rows:
        await conn.execute(
            "INSERT INTO case_positions (consumer, case_id, position) VALUES ($1, $2, $3)"
            " ON CONFLICT (consumer, case_id) DO UPDATE SET position = EXCLUDED.position",
            consumer, case_id, rows[-1]["position"],
        )
    return [_row_to_envelope(r) for r in rows]
