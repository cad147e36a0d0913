"""How far the projection trails the store: lag for operators, read-your-writes for clients."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime

import asyncpg

from estatedesk.contracts.topology import notified_event_types
from estatedesk.eventstore.lag import UNAPPLIED, consumer_lag

from .projection import CONSUMER

NOTIFIED = notified_event_types("analytics")


async def lag(pool: asyncpg.Pool, now: datetime) -> tuple[int, float]:
    """(events not yet applied, age in seconds of the oldest of them)."""
    return await consumer_lag(pool, CONSUMER, NOTIFIED, now)


async def _applied(pool: asyncpg.Pool, case_id: str | None, min_position: int) -> bool:
    async with pool.acquire() as conn:
        if case_id is not None:
            applied = await conn.fetchval(
                "SELECT position FROM case_positions WHERE consumer = $1 AND case_id = $2", CONSUMER, case_id)
            return (applied or 0) >= min_position or not await conn.fetchval(
                "SELECT 1 FROM events WHERE case_id = $1 AND position <= $2 AND position > $3 LIMIT 1",
                case_id, min_position, applied or 0)
        return not await conn.fetchval(f"SELECT 1 {UNAPPLIED} AND e.position <= $3 LIMIT 1", CONSUMER,
                                       list(NOTIFIED), min_position)


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
