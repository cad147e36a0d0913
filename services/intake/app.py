"""The intake service: the command API plus the outbox relay for case and billing events."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from estatedesk.clock import system_clock
from estatedesk.config import Settings
from estatedesk.contracts import BILLING_EVENTS, CASE_EVENTS
from estatedesk.eventstore import ConcurrencyConflict, EventStore, create_pool
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.messaging.kafka import KafkaPublisher
from estatedesk.web.metrics import instrument_requests, relay_metrics, watch_relay
from estatedesk.web.ops import ops_router

from .domain.errors import IllegalTransition, InvalidCommand
from .handlers import Intake
from .idempotency import IdempotencyMismatch
from .routes import router


def create_app(settings: Settings) -> FastAPI:
    registry = CollectorRegistry()
    published, backlog = relay_metrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = await create_pool(settings.database_url)
        publisher = KafkaPublisher(settings.kafka_bootstrap_servers)
        relay = OutboxRelay(settings.database_url, publisher, (CASE_EVENTS, BILLING_EVENTS),
                            batch_size=settings.estatedesk_relay_batch, on_published=published.inc)
        watch_relay(backlog, relay)
        app.state.intake = Intake(pool=pool, store=EventStore(pool), clock=system_clock)
        app.state.relay = relay
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task
            await publisher.close()
            await pool.close()

    app = FastAPI(title="EstateDesk intake", version="1", lifespan=lifespan,
                  description="Command side: receive cases and run them through their lifecycle.")
    app.state.settings = settings
    instrument_requests(app, registry)

    async def database_ready() -> tuple[bool, dict]:
        async with app.state.intake.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        return True, {}

    async def relay_ready() -> tuple[bool, dict]:
        return True, {"leader": app.state.relay.stats.leader, "published": app.state.relay.stats.published}

    app.include_router(ops_router(registry, {"database": database_ready, "relay": relay_ready}))
    app.include_router(router)
    _error_handlers(app)
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidCommand)
    async def invalid(_: Request, exc: InvalidCommand):
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["body", *field.split(".")], "msg": msg, "type": "value_error"} for field, msg in exc.errors
        ]})

    @app.exception_handler(IllegalTransition)
    async def illegal(_: Request, exc: IllegalTransition):
        return JSONResponse(status_code=409, content={
            "detail": str(exc), "status": exc.status, "allowed_commands": exc.allowed})

    @app.exception_handler(IdempotencyMismatch)
    async def reused_key(_: Request, exc: IdempotencyMismatch):
        return JSONResponse(status_code=409, content={
            "detail": "this Idempotency-Key was used with a different request body"})

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, exc: ConcurrencyConflict):
        return JSONResponse(status_code=409, content={
            "detail": "the case changed while this command ran; read it again and retry"})
