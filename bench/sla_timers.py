"""SLA timer store at scale: 1,000,000 pending timers in one worker.

Reports fire lateness (fire time - due time) p50/p99/max for the timers that come due
during the run, and recovery: what a restarted worker must do before it fires again.
"""
from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone

from estatedesk.clock import system_clock
from estatedesk.eventstore import create_pool
from services.sla.ticker import run_ticker

from .infra import embedded

PENDING = 1_000_000
DUE_DURING_RUN = 20_000
RUN_SECONDS = 60
TICK_S = 0.2


async def _load(pool, now: datetime) -> None:
    far = [(f"B-{i}/resolution", f"B-{i}", "E001", "resolution", now, now + timedelta(days=1 + i % 30), "bench")
           for i in range(PENDING - DUE_DURING_RUN)]
    soon = [(f"S-{i}/response", f"S-{i}", "E001", "response", now,
             now + timedelta(seconds=5 + (RUN_SECONDS - 10) * i / DUE_DURING_RUN), "bench")
            for i in range(DUE_DURING_RUN)]
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "sla_obligations", records=far + soon,
            columns=["obligation_id", "case_id", "estate_id", "rule", "started_at", "due_at", "correlation_id"])
        await conn.execute("ANALYZE sla_obligations")


async def run(url: str) -> None:
    pool = await create_pool(url, max_size=4)
    loaded = time.perf_counter()
    await _load(pool, datetime.now(timezone.utc))
    print(f"sla timers: {PENDING:,} pending loaded in {time.perf_counter() - loaded:.1f} s")

    restarted = time.perf_counter()  # a restarted worker: a new pool and its first look for due timers
    fresh = await create_pool(url, max_size=4)
    async with fresh.acquire() as conn:
        await conn.fetch("SELECT obligation_id FROM sla_obligations WHERE state = 'open' AND due_at <= now()"
                         " ORDER BY due_at LIMIT 1000")
    print(f"sla timers: restart recovery (connect + first due-timer query over {PENDING:,} pending) "
          f"{(time.perf_counter() - restarted) * 1000:.0f} ms; nothing is loaded into memory")
    await fresh.close()

    stop = asyncio.Event()
    ticker = asyncio.create_task(run_ticker(pool, system_clock, TICK_S, stop))
    await asyncio.sleep(RUN_SECONDS)  # the load runs for a fixed period
    stop.set()
    await ticker
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM e.recorded_at - o.due_at) AS late FROM sla_obligations o"
            " JOIN events e ON e.stream_id = o.case_id || '/sla' AND e.event_type = 'SlaBreached'"
            " WHERE o.case_id LIKE 'S-%'")
        pending = await conn.fetchval("SELECT count(*) FROM sla_obligations WHERE state = 'open'")
    late = sorted(float(r["late"]) for r in rows)
    q = statistics.quantiles(late, n=100)
    print(f"sla timers: fired {len(late):,} of {DUE_DURING_RUN:,} due during the run with {pending:,} pending; "
          f"lateness p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms "
          f"(tick {TICK_S * 1000:.0f} ms)")
    await pool.close()


def main() -> None:
    with embedded(with_broker=False) as (url, _):
        asyncio.run(run(url))


if __name__ == "__main__":
    main()
