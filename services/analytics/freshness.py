"""How far the projection trails the store: lag for operators, read-your-writes for clients."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime

import asyncpg

from .projection import CONSUMER

# Events after the sweep mark that the projection has not applied yet; older ones are
# counted by the sweep itself, so this stays a small, index-driven query.
_UNAPPLIED = (
    "FROM events e LEFT JOIN case_positions p ON p.consumer = $1 AND p.case_id = e.case_id"
    " WHERE e.position > coalesce((SELECT position FROM consumer_sweeps WHERE consumer = $1), 0)"
    " AND e.stream_id NOT LIKE 'estate-%' AND coalesce(p.position, 0) < e.position"
)


async def lag(pool: asyncpg.Pool, now: datetime) -> tuple[int, float]:
    """(events not yet applied, age in seconds of the oldest of them)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT count(*) AS n, min(e.recorded_at) AS oldest {_UNAPPLIED}", CONSUMER)
    return row["n"], (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0


async def _applied(pool: asyncpg.Pool, case_id: str | None, min_position: int) -> bool:
    async with pool.acquire() as conn:
        if case_id is not None:
            applied = await conn.fetchval(
                "SELECT position FROM case_positions WHERE consumer = $1 AND case_id = $2", CONSUMER, case_id)
            return (applied or 0) >= min_position or not await conn.fetchval(
                "SELECT 1 FROM events WHERE case_id = $1 AND position <= $2 AND position > $3 LIMIT 1",
                case_id, min_position, applied or 0)
        return not await conn.fetchval(f"SELECT 1 {_UNAPPLIED} AND e.position <= $2 LIMIT 1", CONSUMER, min_position)


async def wait_until_applied(pool: asyncpg.Pool, min_position: int, *, case_id: str | None = None,
                             timeout_s: float = 2.0) -> bool:
    """Wait briefly until the projection includes store position `min_position`; False if it
    still does not when the time is up (the caller then answers with what it has)."""
    deadline = time.monotonic() + timeout_s
    while not await _applied(pool, case_id, min_position):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True
