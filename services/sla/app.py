"""The SLA service: faust agents keep the obligations; a ticker fires due timers."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge

from estatedesk.clock import Clock
from estatedesk.config import Settings
from estatedesk.contracts.topology import notified_event_types, consumed_by, produced_by
from estatedesk.eventstore import create_pool
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.messaging.consume import apply_message
from estatedesk.messaging.faust_app import create_faust_app
from estatedesk.messaging.kafka import KafkaPublisher
from estatedesk.web.edge import install_edges
from estatedesk.web.metrics import instrument_requests, relay_metrics, sweep_metric, watch_relay
from estatedesk.web.ops import ops_router
from estatedesk.web.runtime import background
from estatedesk.web.streams import consumer_ready

from .calendars import CalendarWatch
from .handlers import CONSUMER, on_case
from .ticker import run_ticker


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or settings.clock()
    registry = CollectorRegistry()
    fired = Counter("estatedesk_sla_timers_fired", "Timers fired (breaches)", registry=registry)
    published, backlog = relay_metrics(registry)
    recovered = sweep_metric(registry, CONSUMER)
    pending = Gauge("estatedesk_sla_timers_pending", "Open obligations", registry=registry)
    stream_app = create_faust_app(settings, "sla")
    state: dict = {}
    calendar = CalendarWatch(lambda: state["pool"], clock, registry)

    async def catch_up(case_id: str) -> None:
        await on_case(state["pool"], case_id, clock())

    @stream_app.agent(stream_app.topic(*consumed_by("sla"), value_serializer="raw", key_serializer="raw"))
    async def track(stream):
        async for raw in stream:
            await apply_message(raw, lambda envelope: catch_up(envelope.case_id), consumer=CONSUMER,
                                pool=state["pool"])

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = state["pool"] = await create_pool(settings.database_url)

        def relay(publisher: KafkaPublisher) -> OutboxRelay:
            outbox = OutboxRelay(settings.database_url, publisher, produced_by("sla"), on_published=published.inc)
            watch_relay(backlog, outbox)
            return outbox

        async def tick(stop: asyncio.Event) -> None:
            await run_ticker(pool, clock, settings.estatedesk_sla_tick_s, stop, fired.inc, pending.set)

        try:
            async with background(settings, pool, stream_app, consumer=CONSUMER, catch_up=catch_up, clock=clock,
                                  notified=notified_event_types("sla"),
                                  relay=relay, loops=(tick, calendar.run), registry=registry,
                                  on_recovered=recovered.inc):
                yield
        finally:
            await pool.close()

    app = FastAPI(title="EstateDesk SLA", version="1", lifespan=lifespan)
    app.state.settings = settings
    install_edges(app, settings, bearer_api=False)
    instrument_requests(app, registry)
    app.include_router(ops_router(registry, {"consumer": lambda: consumer_ready(stream_app)},
                                  warnings={"calendar": calendar.check}))
    return app
