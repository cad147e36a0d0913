"""Dispatch throughput (one worker, backlog drained) and decision latency under a paced load.

Latency is from the case's `recorded_at` in the event store to the decision's time, so it
includes the outbox relay and one broker hop, as a resident's call would experience it.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from estatedesk.clock import system_clock
from estatedesk.config import Settings
from estatedesk.contracts import Envelope
from estatedesk.demo import seed_demo
from estatedesk.eventstore import EventStore, create_pool
from estatedesk.infra.embedded import free_port, remove_tree
from estatedesk.infra.stack import Stack

from .eventstore import PAYLOAD

BACKLOG = 5000
PACED_RATE, PACED_SECONDS = 50, 20


def _received(now: datetime) -> Envelope:
    case_id = f"C-B{uuid.uuid4().hex[:14].upper()}"
    return Envelope(event_id=uuid.uuid4(), event_type="CaseReceived", case_id=case_id, estate_id="E001",
                    stream_version=1, occurred_at=now, recorded_at=now, producer="bench", correlation_id=case_id,
                    payload={**PAYLOAD, "received_at": now.isoformat()})


async def _decided(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM dispatch_cases")


async def _latencies(pool, since: datetime) -> list[float]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM (d.record->'decisions'->0->>'decided_at')::timestamptz - e.recorded_at) AS s"
            " FROM dispatch_cases d JOIN events e ON e.stream_id = d.case_id AND e.version = 1"
            " WHERE e.recorded_at >= $1", since)
    return sorted(float(r["s"]) for r in rows)


async def run(stack: Stack) -> None:
    pool = await create_pool(stack.settings.database_url)
    store = EventStore(pool)
    await seed_demo(store, system_clock)
    for _ in range(BACKLOG):  # queued while dispatch is down: a pure backlog
        event = _received(datetime.now(timezone.utc))
        await store.append(event.case_id, 0, [event])
    stack.start_service("intake")
    await asyncio.to_thread(stack.wait_ready, "intake")
    started = time.perf_counter()
    stack.start_service("dispatch")
    await asyncio.to_thread(stack.wait_ready, "dispatch")
    ready = time.perf_counter()
    while await _decided(pool) < BACKLOG:
        await asyncio.sleep(0.1)  # poll
    drained = time.perf_counter()
    print(f"dispatch: worker ready after {ready - started:.1f} s; backlog of {BACKLOG} decided in "
          f"{drained - ready:.1f} s = {BACKLOG / (drained - ready):,.0f} cases/s (one worker)")

    since = datetime.now(timezone.utc)
    for _ in range(PACED_RATE * PACED_SECONDS):
        event = _received(datetime.now(timezone.utc))
        await store.append(event.case_id, 0, [event])
        await asyncio.sleep(1 / PACED_RATE)  # pacing the load, not waiting for a result
    while await _decided(pool) < BACKLOG + PACED_RATE * PACED_SECONDS:
        await asyncio.sleep(0.1)  # poll
    lat = await _latencies(pool, since)
    q = statistics.quantiles(lat, n=100)
    print(f"dispatch latency at {PACED_RATE} cases/s: p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms (store append → decision, incl. relay and one broker hop)")
    await pool.close()


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="estatedesk-bench-"))
    settings = Settings(database_url="", kafka_bootstrap_servers="", estatedesk_broker_port=free_port(),
                        estatedesk_postgres_port=free_port(), intake_port=free_port(), dispatch_port=free_port(),
                        estatedesk_group_prefix=f"bench-{uuid.uuid4().hex[:6]}", estatedesk_log_level="WARNING")
    stack = Stack(settings, data, database_name="bench")
    try:
        stack.start_infrastructure()
        stack.prepare()
        asyncio.run(run(stack))
    finally:
        stack.stop()
        remove_tree(data)


if __name__ == "__main__":
    main()
