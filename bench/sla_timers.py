"""SLA timer store at scale: 1,000,000 pending timers in one worker.

Reports fire lateness (fire time - due time) p50/p99/max for the timers that come due
during the run, and recovery: what a restarted worker must do before it fires again.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import datetime, timedelta, timezone

from estatedesk.clock import system_clock
from estatedesk.eventstore import create_pool
from services.sla.domain.clocks import Clock, SlaCase, dump
from services.sla.ticker import run_ticker

from .infra import run_on_embedded

PENDING = 1_000_000
DUE_DURING_RUN = 20_000
RUN_SECONDS = 60
TICK_S = 0.2
CASE = {"type": "repair", "category": "plumbing", "repair": {"scope": "in_home"}}


def _row(case_id: str, received: datetime) -> tuple:
    case = {**CASE, "received_at": received.isoformat()}
    clock = Clock(f"{case_id}/engineering_notified/1", "engineering_notified", received, fired=frozenset({"warning"}))
    state = dump(SlaCase(case_id, case, (clock,), {"engineering_notified": 1}))
    return case_id, "E001", json.dumps(state), received + timedelta(minutes=5)


async def _copy(pool, rows) -> None:
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("sla_cases", records=rows,
                                         columns=["case_id", "estate_id", "state", "next_due_at"])


async def _load(pool) -> None:
    now = datetime.now(timezone.utc)
    for start in range(DUE_DURING_RUN, PENDING, 100_000):  # due in the coming month
        await _copy(pool, [_row(f"B-{i}", now + timedelta(days=1 + i % 30))
                           for i in range(start, min(start + 100_000, PENDING))])
    now = datetime.now(timezone.utc)  # due between 5 s and RUN_SECONDS - 5 s after loading
    await _copy(pool, [_row(f"S-{i}", now - timedelta(minutes=5)
                            + timedelta(seconds=5 + (RUN_SECONDS - 10) * i / DUE_DURING_RUN))
                       for i in range(DUE_DURING_RUN)])
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE sla_cases")


async def run(url: str) -> None:
    pool = await create_pool(url, max_size=4)
    loaded = time.perf_counter()
    await _load(pool)
    print(f"sla timers: {PENDING:,} pending loaded in {time.perf_counter() - loaded:.1f} s")

    restarted = time.perf_counter()  # a restarted worker: a new pool and its first look for due timers
    fresh = await create_pool(url, max_size=4)
    async with fresh.acquire() as conn:
        await conn.fetch("SELECT case_id FROM sla_cases WHERE next_due_at <= now() ORDER BY next_due_at LIMIT 500")
    print(f"sla timers: restart recovery (connect + first due-timer query over {PENDING:,} pending) "
          f"{(time.perf_counter() - restarted) * 1000:.0f} ms; no timer is loaded into memory")
    await fresh.close()

    stop = asyncio.Event()
    ticker = asyncio.create_task(run_ticker(pool, system_clock, TICK_S, stop))
    await asyncio.sleep(RUN_SECONDS)  # the load runs for a fixed period
    stop.set()
    await ticker
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM recorded_at - (payload->>'due_at')::timestamptz) AS late FROM events"
            " WHERE event_type = 'SlaBreached'")
        pending = await conn.fetchval("SELECT count(*) FROM sla_cases WHERE next_due_at IS NOT NULL")
    late = sorted(float(r["late"]) for r in rows)
    q = statistics.quantiles(late, n=100)
    print(f"sla timers: fired {len(late):,} of {DUE_DURING_RUN:,} due during the run with {pending:,} pending; "
          f"lateness p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms "
          f"(tick {TICK_S * 1000:.0f} ms)")
    await pool.close()


def main() -> None:
    run_on_embedded(run)


if __name__ == "__main__":
    main()
