"""Event-store append rate: single-event appends to distinct streams, with and without concurrency."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

from estatedesk.contracts import Envelope
from estatedesk.eventstore import EventStore, create_pool

from .infra import embedded

PAYLOAD = {"type": "repair", "category": "plumbing", "channel": "phone", "title": "Leak", "description": "",
           "location": {"building": "3", "unit": "2", "room": "1502", "area": None},
           "reporter": {"household_id": "H", "phone_masked": "138****5678"},
           "received_at": "2026-11-22T09:30:00Z", "priority": "normal",
           "repair": {"scope": "in_home", "in_warranty": None}}


def _event(stream: str) -> Envelope:
    now = datetime.now(timezone.utc)
    return Envelope(event_id=uuid.uuid4(), event_type="CaseReceived", case_id=stream, estate_id="E001",
                    stream_version=1, occurred_at=now, recorded_at=now, producer="bench",
                    correlation_id=stream, payload=PAYLOAD)


async def measure(url: str, appends: int, concurrency: int) -> float:
    pool = await create_pool(url, max_size=concurrency + 1)
    store = EventStore(pool)
    queue = [f"B-{uuid.uuid4().hex}" for _ in range(appends)]

    async def worker():
        while queue:
            stream = queue.pop()
            await store.append(stream, 0, [_event(stream)])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return appends / elapsed


def main() -> None:
    with embedded(with_broker=False) as (url, _):
        for concurrency in (1, 8):
            rate = asyncio.run(measure(url, 5000, concurrency))
            print(f"event store: {rate:,.0f} appends/s (1 event + outbox row each, concurrency {concurrency})")


if __name__ == "__main__":
    main()
