"""Replaying the event store: into the projections (rebuild) or into Kafka (re-publish)."""
from __future__ import annotations

from typing import Awaitable, Callable

import asyncpg
from tqdm import tqdm

from estatedesk.eventstore.store import _COLUMNS, _row_to_envelope, write_outbox
from estatedesk.eventstore.tracking import lock_case
from estatedesk.streams import NOT_CASE_PREFIXES

CASES_PER_TRANSACTION = 200
_NOT_CASES = [f"{prefix}%" for prefix in NOT_CASE_PREFIXES]


async def rebuild_projection(pool: asyncpg.Pool, consumer: str,
                             rebuild_cases: Callable[[asyncpg.Connection, dict[str, list]], Awaitable[None]],
                             forget_case: Callable[[asyncpg.Connection, list[str]], Awaitable[None]],
                             progress: bool = True) -> int:
    """Rebuild one projection case by case from the store; safe while its consumer runs,
    because each case is rebuilt under the same lock the consumer takes."""
    async with pool.acquire() as conn:
        case_ids = [r["case_id"] for r in await conn.fetch(
            "SELECT case_id FROM events WHERE stream_id NOT LIKE ALL($1) GROUP BY case_id ORDER BY min(position)",
            _NOT_CASES)]
        total = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id NOT LIKE ALL($1)", _NOT_CASES)
    with tqdm(total=total, unit="event", desc=f"rebuilding {consumer}", disable=not progress) as bar:
        for start in range(0, len(case_ids), CASES_PER_TRANSACTION):
            chunk = case_ids[start:start + CASES_PER_TRANSACTION]
            async with pool.acquire() as conn, conn.transaction():
                for case_id in chunk:
                    await lock_case(conn, consumer, case_id)
                await forget_case(conn, chunk)
                await conn.execute("DELETE FROM case_positions WHERE consumer = $1 AND case_id = ANY($2)",
                                   consumer, chunk)
                rows = await conn.fetch(
                    f"SELECT {_COLUMNS} FROM events WHERE case_id = ANY($1) ORDER BY position", chunk)
                by_case: dict[str, list] = {}
                last: dict[str, int] = {}
                for row in rows:
                    by_case.setdefault(row["case_id"], []).append(_row_to_envelope(row))
                    last[row["case_id"]] = row["position"]
                await rebuild_cases(conn, by_case)
                await conn.executemany(
                    "INSERT INTO case_positions (consumer, case_id, position) VALUES ($1, $2, $3)",
                    [(consumer, case_id, position) for case_id, position in last.items()])
                bar.update(len(rows))
    return len(case_ids)


async def republish(pool: asyncpg.Pool, after_position: int, progress: bool = True, batch: int = 5000) -> int:
    """Queue every stored event after `after_position` for the relays again (e.g. after a
    broker lost its topics); consumers drop what they have already applied."""
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM events WHERE position > $1", after_position)
    queued = 0
    with tqdm(total=total, unit="event", desc="re-publishing", disable=not progress) as bar:
        while True:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
                    after_position, batch)
                if not rows:
                    return queued
                queued += await write_outbox(conn, [_row_to_envelope(r) for r in rows])
                after_position = rows[-1]["position"]
                bar.update(len(rows))
