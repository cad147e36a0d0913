"""The analytics service: faust agents feed the projections; FastAPI serves them."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge

from estatedesk.clock import Clock
from estatedesk.config import Settings
from estatedesk.contracts.topology import notified_event_types, consumed_by
from estatedesk.eventstore import create_pool
from estatedesk.messaging.consume import apply_message
from estatedesk.messaging.faust_app import create_faust_app
from estatedesk.web.edge import install_edges
from estatedesk.web.metrics import instrument_requests, sweep_metric
from estatedesk.web.ops import ops_router
from estatedesk.web.runtime import background
from estatedesk.web.streams import consumer_ready

from . import freshness, month_tallies, projection
from .report_routes import router as report_router
from .routes import router


LAG_NOT_READY_S = 60.0  # behind by more than this, the read side stops claiming to be ready


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or settings.clock()
    registry = CollectorRegistry()
    applied = Counter("estatedesk_projection_events", "Messages applied to projections", registry=registry)
    lag_events = Gauge("estatedesk_projection_lag_events", "Stored events not yet projected", ["projection"],
                       registry=registry)
    lag_seconds = Gauge("estatedesk_projection_lag_seconds", "Age of the oldest stored event not yet projected",
                        ["projection"], registry=registry)
    recovered = sweep_metric(registry, projection.CONSUMER)
    stream_app = create_faust_app(settings, "analytics")
    topics = stream_app.topic(*consumed_by("analytics"),
                              value_serializer="raw", key_serializer="raw")

    app = FastAPI(title="EstateDesk analytics", version="1",
                  description="Read side: case views and lists, dashboards, statistics.")

    async def catch_up(case_id: str) -> None:
        await projection.project(app.state.pool, case_id)

    async def watch_lag(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await projection_lag()
            except Exception:  # metrics must never take the service down
                pass
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    @stream_app.agent(topics)
    async def feed(stream):
        async for raw in stream:
            if await apply_message(raw, lambda envelope: catch_up(envelope.case_id),
                                   consumer=projection.CONSUMER, pool=app.state.pool):
                applied.inc()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = app.state.pool = await create_pool(settings.database_url)
        try:
            await month_tallies.count_stored_views(pool)
            async with background(settings, pool, stream_app, consumer=projection.CONSUMER, catch_up=catch_up,
                                  notified=notified_event_types("analytics"),
                                  clock=clock, loops=(watch_lag,), on_recovered=recovered.inc):
                yield
        finally:
            await pool.close()

    app.router.lifespan_context = lifespan
    app.state.settings, app.state.clock = settings, clock
    install_edges(app, settings, bearer_api=True)
    instrument_requests(app, registry)
    async def projection_lag() -> tuple[bool, dict]:
        events, seconds = await freshness.lag(app.state.pool, clock())
        lag_events.labels(projection.CONSUMER).set(events)
        lag_seconds.labels(projection.CONSUMER).set(seconds)
        return seconds < LAG_NOT_READY_S, {"lag_events": events, "lag_seconds": round(seconds, 3)}

    app.include_router(ops_router(registry, {"consumer": lambda: consumer_ready(stream_app),
                                             "projection": projection_lag}))
    app.include_router(router)
    app.include_router(report_router)
    return app
