"""Outbox relay publish rate: a pre-filled outbox drained to the broker."""
from __future__ import annotations

import asyncio
import time
import uuid

from estatedesk.contracts import CASE_EVENTS
from estatedesk.eventstore import create_pool
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.messaging.kafka import KafkaPublisher

from .infra import embedded

ROWS = 50_000
MESSAGE = b'{"event_type":"CaseReceived","payload":{"title":"' + b"x" * 600 + b'"}}'


async def measure(url: str, servers: str) -> float:
    pool = await create_pool(url)
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "outbox", columns=["topic", "key", "message"],
            records=[(CASE_EVENTS, f"C-{uuid.uuid4().hex[:12]}", MESSAGE) for _ in range(ROWS)],
        )
    publisher = KafkaPublisher(servers)
    relay = OutboxRelay(url, publisher, (CASE_EVENTS,), batch_size=500)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    while relay.stats.published < ROWS:
        await asyncio.sleep(0.05)  # poll
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await publisher.close()
    await pool.close()
    return ROWS / elapsed


def main() -> None:
    with embedded() as (url, servers):
        rate = asyncio.run(measure(url, servers))
        print(f"outbox relay: {rate:,.0f} messages/s published ({ROWS} rows of ~700 bytes, batches of 500)")


if __name__ == "__main__":
    main()
