"""The intake service: the command API plus the outbox relay for case and billing events.
It consumes nothing: dispatch's decisions are read from the store when a case is loaded."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry

from estatedesk.config import Settings
from estatedesk.contracts.published_versions import RECORD as PUBLISHED_VERSIONS
from estatedesk.contracts.topology import produced_by
from estatedesk.eventstore import ConcurrencyConflict, EventStore, create_pool
from estatedesk.eventstore.relay import OutboxRelay
from estatedesk.messaging.kafka import KafkaPublisher
from estatedesk.web.edge import install_edges
from estatedesk.web.errors import invalid as invalid_answer
from estatedesk.web.metrics import instrument_requests, relay_metrics, watch_relay
from estatedesk.web.ops import ops_router
from estatedesk.web.runtime import background

from .domain.errors import IllegalTransition, InvalidCommand, NotPermitted
from .handlers import CaseNotFound, Intake
from .idempotency import IdempotencyMismatch
from .command_routes import router as command_router
from .routes import router


def create_app(settings: Settings) -> FastAPI:
    clock = settings.clock()
    registry = CollectorRegistry()
    published, backlog = relay_metrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = await create_pool(settings.database_url)
        intake = app.state.intake = Intake(pool=pool, store=EventStore(pool), clock=clock)

        def relay(publisher: KafkaPublisher) -> OutboxRelay:
            outbox = OutboxRelay(settings.database_url, publisher, produced_by("intake"),
                                 batch_size=settings.estatedesk_relay_batch, on_published=published.inc)
            watch_relay(backlog, outbox)
            return outbox

        try:
            async with background(settings, pool, clock=clock, relay=relay) as outbox:
                app.state.relay = outbox
                yield
        finally:
            await pool.close()

    app = FastAPI(title="EstateDesk intake", version="1", lifespan=lifespan,
                  description="Command side: receive cases and run them through their lifecycle.")
    app.state.settings = settings
    install_edges(app, settings, bearer_api=True)
    instrument_requests(app, registry)

    async def database_ready() -> tuple[bool, dict]:
        async with app.state.intake.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        return True, {}

    async def relay_ready() -> tuple[bool, dict]:
        return True, {"leader": app.state.relay.stats.leader, "published": app.state.relay.stats.published}

    app.include_router(ops_router(registry, {"database": database_ready, "relay": relay_ready}))
    asyncapi = PUBLISHED_VERSIONS.read_bytes()

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_document() -> Response:
        """Every topic and published message version, like /openapi.json open to anyone."""
        return Response(asyncapi, media_type="application/json")

    app.include_router(router)
    app.include_router(command_router)
    _error_handlers(app)
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidCommand)
    async def invalid(_: Request, exc: InvalidCommand):
        return invalid_answer({"loc": [exc.part, *field.split(".")], "msg": msg, "type": "value_error"}
                              for field, msg in exc.errors)

    @app.exception_handler(IllegalTransition)
    async def illegal(_: Request, exc: IllegalTransition):
        return JSONResponse(status_code=409, content={
            "detail": str(exc), "status": exc.status, "allowed_commands": exc.allowed})

    @app.exception_handler(NotPermitted)
    async def not_permitted(_: Request, exc: NotPermitted):
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(CaseNotFound)
    async def not_found(_: Request, exc: CaseNotFound):
        return JSONResponse(status_code=404, content={"detail": f"no case {exc} in your estates"})

    @app.exception_handler(IdempotencyMismatch)
    async def reused_key(_: Request, exc: IdempotencyMismatch):
        return JSONResponse(status_code=409, content={
            "detail": "this Idempotency-Key was used with a different request body"})

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, exc: ConcurrencyConflict):
        return JSONResponse(status_code=409, content={
            "detail": "the case changed while this command ran; read it again and retry"})
