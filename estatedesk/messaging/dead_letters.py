"""Messages consumers set aside: what operators list and, once the cause is fixed, requeue."""
from __future__ import annotations

import asyncpg

from estatedesk.contracts import EVENT_TYPES, topic_of
from estatedesk.eventstore.store import OUTBOX_CHANNEL


async def summary(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            "SELECT consumer, left(error, 120) AS error, count(*) AS count FROM dead_letters"
            " GROUP BY 1, 2 ORDER BY 3 DESC")


async def requeue(pool: asyncpg.Pool) -> int:
    """Put every dead letter of a known event type back on its topic; consumers catch the
    case up from the store, so a requeued duplicate changes nothing."""
    requeued = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch("SELECT id, event_type, message FROM dead_letters"
                                " WHERE event_type = ANY($1) FOR UPDATE", list(EVENT_TYPES))
        for row in rows:
            topic = topic_of(row["event_type"])
            if not topic:
                continue
            key = await conn.fetchval("SELECT case_id FROM events WHERE event_id::text ="
                                      " (convert_from($1, 'UTF8')::jsonb->>'event_id')", row["message"])
            if key is None:  # never stored: nothing a consumer could catch up
                continue
            await conn.execute("INSERT INTO outbox (topic, key, message) VALUES ($1, $2, $3)",
                               topic, key, row["message"])
            await conn.execute("DELETE FROM dead_letters WHERE id = $1", row["id"])
            requeued += 1
        if requeued:
            await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
    return requeued
