"""How far a consumer trails the store: events it has not applied and the age of the oldest.

Only events after the consumer's sweep mark are counted (older ones the sweep has settled),
so this is a small, index-driven query even on a large store.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

UNAPPLIED = (
    "FROM events e LEFT JOIN case_positions p ON p.consumer = $1 AND p.case_id = e.case_id"
    " WHERE e.position > coalesce((SELECT position FROM consumer_sweeps WHERE consumer = $1), 0)"
    " AND e.stream_id NOT LIKE 'estate-%' AND coalesce(p.position, 0) < e.position"
)


async def consumer_lag(pool: asyncpg.Pool, consumer: str, now: datetime) -> tuple[int, float]:
    """(events not yet applied, age in seconds of the oldest of them)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT count(*) AS n, min(e.recorded_at) AS oldest {UNAPPLIED}", consumer)
    return row["n"], (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
