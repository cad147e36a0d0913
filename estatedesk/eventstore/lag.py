"""How far a consumer trails the store: events it has not applied and the age of the oldest.

Only events after the consumer's sweep mark are counted (older ones the sweep has settled),
so this is a small, index-driven query even on a large store; and only events of the types
the consumer is notified of, since a case's other events (another service's clocks) reach
it only along with the next one it hears of.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

# $1 the consumer's tracking name, $2 the event types it is notified of.
UNAPPLIED = (
    "FROM events e LEFT JOIN case_positions p ON p.consumer = $1 AND p.case_id = e.case_id"
    " WHERE e.position > coalesce((SELECT position FROM consumer_sweeps WHERE consumer = $1), 0)"
    " AND e.event_type = ANY($2::text[]) AND coalesce(p.position, 0) < e.position"
)


async def consumer_lag(pool: asyncpg.Pool, consumer: str, event_types: tuple[str, ...],
                       now: datetime) -> tuple[int, float]:
    """(events of the types it is notified of not yet applied, age in seconds of the oldest)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT count(*) AS n, min(e.recorded_at) AS oldest {UNAPPLIED}",
                                  consumer, list(event_types))
    return row["n"], (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
