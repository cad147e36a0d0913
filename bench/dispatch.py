"""Dispatch throughput (one worker draining a backlog from the broker) and decision latency
under a paced load, with the store sweep off so every case goes through Kafka.

Throughput is timed from the first decision committed to the last, so the worker's start and
group join are not in it. Latency is from the moment the case's append committed to the
moment its decision is visible committed in dispatch's table (observed every 10 ms), so it
includes the outbox relay, one broker hop, the decision and its commit.
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


SWEEP_OFF_S = 24 * 3600.0
OBSERVE_S = 0.01


async def _decided(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM dispatch_cases")


async def _decided_among(pool, case_ids: list[str]) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT case_id FROM dispatch_cases WHERE case_id = ANY($1)", case_ids)
    return [r["case_id"] for r in rows]


async def _throughput(stack: Stack, pool, store: EventStore) -> None:
    for _ in range(BACKLOG):  # queued while dispatch is down: a pure backlog
        event = _received(datetime.now(timezone.utc))
        await store.append(event.case_id, 0, [event])
    stack.start_service("intake")
    await asyncio.to_thread(stack.wait_ready, "intake")
    stack.start_service("dispatch")
    while (first := await _decided(pool)) == 0:
        await asyncio.sleep(OBSERVE_S)  # poll
    began = time.perf_counter()
    while await _decided(pool) < BACKLOG:
        await asyncio.sleep(OBSERVE_S)  # poll
    took = time.perf_counter() - began
    print(f"dispatch: {BACKLOG - first:,} of a {BACKLOG:,} backlog decided in {took:.1f} s from the first "
          f"commit to the last = {(BACKLOG - first) / took:,.0f} cases/s (one worker, sweep off)")


async def _latency(pool, store: EventStore) -> None:
    appended: dict[str, float] = {}
    seen: dict[str, float] = {}

    async def observe(done: asyncio.Event) -> None:
        while not (done.is_set() and len(seen) == len(appended)):
            waiting = [c for c in appended if c not in seen]
            if waiting:
                now = time.perf_counter()
                for case_id in await _decided_among(pool, waiting):
                    seen[case_id] = now
            await asyncio.sleep(OBSERVE_S)  # poll

    done = asyncio.Event()
    observer = asyncio.create_task(observe(done))
    for _ in range(PACED_RATE * PACED_SECONDS):
        event = _received(datetime.now(timezone.utc))
        await store.append(event.case_id, 0, [event])
        appended[event.case_id] = time.perf_counter()
        await asyncio.sleep(1 / PACED_RATE)  # pacing the load, not waiting for a result
    done.set()
    await asyncio.wait_for(observer, 120)
    lat = sorted(seen[c] - appended[c] for c in appended)
    q = statistics.quantiles(lat, n=100)
    print(f"dispatch latency at {PACED_RATE} cases/s: p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms (append committed → decision committed, via relay and broker; "
          f"observed every {OBSERVE_S * 1000:.0f} ms)")


async def run(stack: Stack) -> None:
    pool = await create_pool(stack.settings.database_url)
    store = EventStore(pool)
    await seed_demo(store, system_clock)
    await _throughput(stack, pool, store)
    await _latency(pool, store)
    await pool.close()


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="estatedesk-bench-"))
    settings = Settings(database_url="", kafka_bootstrap_servers="", estatedesk_broker_port=free_port(),
                        estatedesk_postgres_port=free_port(), intake_port=free_port(), dispatch_port=free_port(),
                        estatedesk_group_prefix=f"bench-{uuid.uuid4().hex[:6]}", estatedesk_log_level="WARNING",
                        estatedesk_sweep_grace_s=SWEEP_OFF_S)
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
