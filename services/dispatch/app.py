"""The dispatch service: a faust agent turns case events into dispatch decisions.

Decisions leave through the outbox (dispatch-events), written in the transaction that
updates the working state, so a crash can repeat a message but never a decision.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from estatedesk.clock import Clock
from estatedesk.config import Settings
from estatedesk.contracts.topology import notified_event_types, consumed_by, produced_by
from estatedesk.eventstore import EventStore, create_pool
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.messaging.consume import apply_message
from estatedesk.messaging.faust_app import create_faust_app
from estatedesk.messaging.kafka import KafkaPublisher
from estatedesk.web.edge import install_edges
from estatedesk.web.metrics import instrument_requests, relay_metrics, sweep_metric, watch_relay
from estatedesk.web.ops import ops_router
from estatedesk.web.runtime import background
from estatedesk.web.streams import consumer_ready

from .handlers import CONSUMER, on_case


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or settings.clock()
    registry = CollectorRegistry()
    decisions = Counter("estatedesk_dispatch_decisions", "Dispatch decisions made", registry=registry)
    published, backlog = relay_metrics(registry)
    recovered = sweep_metric(registry, CONSUMER)
    stream_app = create_faust_app(settings, "dispatch")
    state: dict = {}

    async def catch_up(case_id: str) -> None:
        decisions.inc(await on_case(state["pool"], state["store"], case_id, clock()))

    @stream_app.agent(stream_app.topic(*consumed_by("dispatch"), value_serializer="raw", key_serializer="raw"))
    async def route(stream):
        async for raw in stream:
            await apply_message(raw, lambda envelope: catch_up(envelope.case_id), consumer=CONSUMER,
                                pool=state["pool"])

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = state["pool"] = await create_pool(settings.database_url)
        state["store"] = EventStore(pool)

        def relay(publisher: KafkaPublisher) -> OutboxRelay:
            outbox = OutboxRelay(settings.database_url, publisher, produced_by("dispatch"), on_published=published.inc)
            watch_relay(backlog, outbox)
            return outbox

        try:
            async with background(settings, pool, stream_app, consumer=CONSUMER, catch_up=catch_up, clock=clock,
                                  notified=notified_event_types("dispatch"),
                                  relay=relay, registry=registry, on_recovered=recovered.inc):
                yield
        finally:
            await pool.close()

    app = FastAPI(title="EstateDesk dispatch", version="1", lifespan=lifespan)
    app.state.settings = settings
    install_edges(app, settings, bearer_api=False)
    instrument_requests(app, registry)
    app.include_router(ops_router(registry, {"consumer": lambda: consumer_ready(stream_app)}))
    return app
