"""What runs beside a service's HTTP API: its faust consumer, the store sweep that backs it
up, its outbox relay, the guard that keeps the contract topics in place, and any
service-specific loop — started and stopped together."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

import asyncpg
import faust
from prometheus_client import CollectorRegistry, Gauge

from estatedesk.clock import Clock
from estatedesk.config import Settings
from estatedesk.eventstore.lag import consumer_lag
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.eventstore.sweeper import Sweeper
from estatedesk.messaging.kafka import KafkaPublisher, TopicGuard

Loop = Callable[[asyncio.Event], Awaitable[None]]


@asynccontextmanager
async def background(settings: Settings, pool: asyncpg.Pool, stream_app: faust.App | None = None, *,
                     consumer: str | None = None, catch_up: Callable[[str], Awaitable[object]] | None = None,
                     notified: tuple[str, ...] = (),
                     clock: Clock, relay: Callable[[KafkaPublisher], OutboxRelay] | None = None,
                     loops: tuple[Loop, ...] = (), registry: CollectorRegistry | None = None,
                     on_recovered: Callable[[int], None] = lambda n: None,
                     ) -> AsyncIterator[OutboxRelay | None]:
    """A consuming service passes its faust app, consumer name, the event types it is notified
    of and its catch-up (and the counter of cases its store sweep recovers); a service that only
    publishes (intake) passes its relay alone."""
    topics = (settings.estatedesk_topic_partitions, settings.estatedesk_topic_replication)
    publisher = KafkaPublisher(settings.kafka_bootstrap_servers, topics=topics) if relay else None
    outbox = relay(publisher) if relay else None
    stop = asyncio.Event()
    guard = TopicGuard(settings.kafka_bootstrap_servers, *topics, interval_s=settings.estatedesk_topic_check_s)
    runs = [*loops, guard.run, *([outbox.run] if outbox else [])]
    if consumer is not None and catch_up is not None:
        runs.append(Sweeper(pool, consumer, catch_up, clock, event_types=notified, grace_s=settings.estatedesk_sweep_grace_s,
                            interval_s=settings.estatedesk_sweep_interval_s, on_recovered=on_recovered).run)
        if registry is not None:
            runs.append(_lag_watch(pool, consumer, notified, clock, registry))
    tasks = [asyncio.create_task(run(stop)) for run in runs]
    if stream_app is not None:
        await stream_app.start()
    try:
        yield outbox
    finally:
        if stream_app is not None:
            await stream_app.stop()
        stop.set()
        await asyncio.gather(*tasks)
        if publisher:
            await publisher.close()


def _lag_watch(pool: asyncpg.Pool, consumer: str, notified: tuple[str, ...], clock: Clock,
               registry: CollectorRegistry) -> Loop:
    events = Gauge("estatedesk_consumer_lag_events", "Stored events this consumer has not applied", ["consumer"],
                   registry=registry).labels(consumer)
    seconds = Gauge("estatedesk_consumer_lag_seconds", "Age of the oldest stored event not yet applied",
                    ["consumer"], registry=registry).labels(consumer)

    async def watch(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                n, age = await consumer_lag(pool, consumer, notified, clock())
                events.set(n)
                seconds.set(age)
            except Exception:  # metrics must never take the service down
                pass
            try:
                await asyncio.wait_for(stop.wait(), 5.0)
            except asyncio.TimeoutError:
                pass

    return watch
