"""The analytics service: faust agents feed the projections; FastAPI serves them."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from estatedesk.clock import system_clock
from estatedesk.config import Settings
from estatedesk.contracts import BILLING_EVENTS, CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS
from estatedesk.eventstore import create_pool
from estatedesk.eventstore.sweeper import Sweeper
from estatedesk.messaging.consume import apply_message
from estatedesk.messaging.faust_app import create_faust_app
from estatedesk.web.metrics import instrument_requests
from estatedesk.web.ops import ops_router
from estatedesk.web.streams import consumer_ready

from . import projection
from .routes import router


def create_app(settings: Settings, clock=system_clock) -> FastAPI:
    registry = CollectorRegistry()
    applied = Counter("estatedesk_projection_events", "Events applied to projections", registry=registry)
    stream_app = create_faust_app(settings, "analytics")
    topics = stream_app.topic(CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS, BILLING_EVENTS,
                              value_serializer="raw", key_serializer="raw")

    app = FastAPI(title="EstateDesk analytics", version="1",
                  description="Read side: case views and lists, dashboards, statistics.")

    async def catch_up(case_id: str) -> None:
        await projection.project(app.state.pool, case_id)

    @stream_app.agent(topics)
    async def feed(stream):
        async for raw in stream:
            if await apply_message(raw, lambda envelope: catch_up(envelope.case_id),
                                   consumer=projection.CONSUMER, pool=app.state.pool):
                applied.inc()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = await create_pool(settings.database_url)
        sweeper = Sweeper(app.state.pool, projection.CONSUMER, catch_up, clock,
                          grace_s=settings.estatedesk_sweep_grace_s, interval_s=settings.estatedesk_sweep_interval_s)
        stop = asyncio.Event()
        sweeping = asyncio.create_task(sweeper.run(stop))
        await stream_app.start()
        try:
            yield
        finally:
            await stream_app.stop()
            stop.set()
            await sweeping
            await app.state.pool.close()

    app.router.lifespan_context = lifespan
    app.state.settings = settings
    instrument_requests(app, registry)
    app.include_router(ops_router(registry, {"consumer": lambda: consumer_ready(stream_app)}))
    app.include_router(router)
    return app
