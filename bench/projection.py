"""Read-side throughput: the live projection path and a full replay of 1,000,000 events.

Live: each case caught up as the consumer does on a message (lock, read the case's new
events, fold, upsert), one at a time. Replay: `rebuild_projection`, as `estatedesk replay
--projections` runs it.
"""
from __future__ import annotations

import time

from estatedesk.eventstore import create_pool
from estatedesk.replay import rebuild_projection
from estatedesk.traffic import generate
from services.analytics import projection

from .infra import run_on_embedded

CASES = 110_000  # about 1,000,000 events
LIVE_CASES = 10_000


async def run(url: str) -> None:
    pool = await create_pool(url, max_size=4)
    started = time.perf_counter()
    events = await generate(pool, estates=20, cases=CASES, month="2026-10", progress=False)
    print(f"projection: generated {events:,} events ({CASES:,} cases) in {time.perf_counter() - started:.1f} s")

    async with pool.acquire() as conn:
        case_ids = [r["case_id"] for r in await conn.fetch(
            "SELECT DISTINCT case_id FROM events WHERE stream_id NOT LIKE 'estate-%' LIMIT $1", LIVE_CASES)]
        live_events = await conn.fetchval("SELECT count(*) FROM events WHERE case_id = ANY($1)", case_ids)
    started = time.perf_counter()
    for case_id in case_ids:
        await projection.project(pool, case_id)
    live = time.perf_counter() - started
    print(f"projection: live path {live_events / live:,.0f} events/s ({LIVE_CASES:,} cases, one at a time)")

    started = time.perf_counter()
    await rebuild_projection(pool, projection.CONSUMER, projection.rebuild_cases, projection.forget, progress=False)
    replay = time.perf_counter() - started
    print(f"projection: replay of {events:,} events in {replay:.1f} s = {events / replay:,.0f} events/s")
    await pool.close()


def main() -> None:
    run_on_embedded(run)


if __name__ == "__main__":
    main()
