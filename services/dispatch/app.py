"""The dispatch service: a faust agent turns CaseReceived into a dispatch decision.

Decision ids derive from the cause's event id, so a redelivered CaseReceived yields the
same decision id and downstream consumers drop the repeat.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from estatedesk.clock import system_clock
from estatedesk.config import Settings
from estatedesk.contracts import CASE_EVENTS, DISPATCH_EVENTS, Envelope, derived_event_id, encode
from estatedesk.eventstore import create_pool
from estatedesk.messaging.consume import apply_message
from estatedesk.messaging.faust_app import create_faust_app
from estatedesk.web.ops import ops_router
from estatedesk.web.streams import consumer_ready

from .domain.routing import DEFAULT_TABLE, decide

log = logging.getLogger(__name__)


def decision_envelope(cause: Envelope, now) -> Envelope:
    decision = decide(cause.payload, DEFAULT_TABLE, now)
    return Envelope(
        event_id=derived_event_id("dispatch", cause.event_id),
        event_type=type(decision).event_type(), case_id=cause.case_id, estate_id=cause.estate_id,
        occurred_at=now, recorded_at=now, producer="dispatch", correlation_id=cause.correlation_id,
        causation_id=str(cause.event_id), payload=encode(decision),
    )


def create_app(settings: Settings, clock=system_clock) -> FastAPI:
    registry = CollectorRegistry()
    decisions = Counter("estatedesk_dispatch_decisions", "Dispatch decisions emitted", registry=registry)
    stream_app = create_faust_app(settings, "dispatch")
    state: dict = {}
    case_events = stream_app.topic(CASE_EVENTS, value_serializer="raw", key_serializer="raw")
    dispatch_events = stream_app.topic(DISPATCH_EVENTS, value_serializer="raw", key_serializer="raw")

    @stream_app.agent(case_events)
    async def route(stream):
        async def on_case_event(envelope: Envelope) -> None:
            if envelope.event_type != "CaseReceived":
                return
            out = decision_envelope(envelope, clock())
            await dispatch_events.send(key=envelope.case_id.encode(), value=out.to_bytes())
            decisions.inc()

        async for raw in stream:
            await apply_message(raw, on_case_event, consumer="dispatch", pool=state["pool"])

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["pool"] = await create_pool(settings.database_url)
        await stream_app.start()
        try:
            yield
        finally:
            await stream_app.stop()
            await state["pool"].close()

    app = FastAPI(title="EstateDesk dispatch", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(ops_router(registry, {"consumer": lambda: consumer_ready(stream_app)}))
    return app
