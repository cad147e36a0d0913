"""The console service: staff sign in and work cases through pages rendered from what intake
and analytics answer. Its own tables hold accounts and the notification inbox, no case data."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from estatedesk.auth import issue_token
from estatedesk.config import Settings
from estatedesk.contracts.topology import consumed_by
from estatedesk.eventstore import create_pool
from estatedesk.messaging.consume import apply_message
from estatedesk.messaging.faust_app import create_faust_app
from estatedesk.web.edge import install_edges
from estatedesk.web.errors import field_problems, http_error as json_http_error, invalid
from estatedesk.web.metrics import instrument_requests
from estatedesk.web.ops import ops_router
from estatedesk.web.streams import consumer_ready

from .api_client import Api
from .auth.routes import router as auth_router
from .boards.routes import router as boards_router
from .cases.routes import router as cases_router
from .forms import field_errors
from .inbox.consumer import CONSUMER, Notifier
from .inbox.mailer import mail_loop
from .inbox.routes import router as inbox_router
from .mailbox.routes import router as mailbox_router
from .queues.routes import router as queues_router
from .setup.routes import router as setup_router
from .web import ROOT, SignInRequired, UserDep, render, template_environment

CONSUMER_FETCH_WAIT_MS = 250
JSON_PATHS = ("/v1/", "/inbox/unread.json", "/healthz", "/readyz", "/metrics")


def create_app(settings: Settings, clock=None) -> FastAPI:
    clock = clock or settings.clock()
    registry = CollectorRegistry()
    notified = Counter("estatedesk_console_notifications", "Inbox notifications written", registry=registry)
    # The inbox needs no 10 ms hops: a longer fetch wait keeps this consumer's polling cheap.
    stream_app = create_faust_app(settings.model_copy(update={
        "estatedesk_fetch_max_wait_ms": max(settings.estatedesk_fetch_max_wait_ms, CONSUMER_FETCH_WAIT_MS)}), "console")
    app = FastAPI(title="EstateDesk console", version="1",
                  description="The operator console: sign-in, desk, queues, case pages, boards, set-up, inbox.")
    app.state.settings, app.state.clock = settings, clock
    app.state.templates = template_environment()
    app.state.timezones = {}

    async def staff_of(estate_id: str) -> dict[str, list[str]]:
        token = issue_token(settings.estatedesk_secret, role="group_admin", estates=[], user="console-notifier",
                            now=clock())
        answer = await app.state.api.estate(token, estate_id)
        staff = answer.get("staff") if answer.ok else None
        return staff if isinstance(staff, dict) else {}

    notifier = Notifier(lambda: app.state.pool, staff_of)

    async def on_message(envelope) -> None:
        notified.inc(await notifier.handle(envelope))

    @stream_app.agent(stream_app.topic(*consumed_by("console"), value_serializer="raw", key_serializer="raw"))
    async def notifications(stream):
        async for raw in stream:
            await apply_message(raw, on_message, consumer=CONSUMER, pool=app.state.pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = app.state.pool = await create_pool(settings.database_url)
        client = httpx.AsyncClient(timeout=15)
        app.state.api = Api(client, settings.service_url("intake"), settings.service_url("analytics"))
        # Only the consumer and the mail loop run beside the pages: the inbox follows messages
        # and holds no case state, so there is nothing for a store sweep to repair.
        stop = asyncio.Event()
        loops = [asyncio.create_task(mail_loop(lambda: app.state.pool, settings)(stop))] \
            if settings.console_smtp_host else []
        try:
            await stream_app.start()
            try:
                yield
            finally:
                await stream_app.stop()
        finally:
            stop.set()
            await asyncio.gather(*loops)
            await client.aclose()
            await pool.close()

    app.router.lifespan_context = lifespan
    install_edges(app, settings, bearer_api=False)  # its /v1/sessions is where tokens come from
    instrument_requests(app, registry)

    async def database_ready() -> tuple[bool, dict]:
        async with app.state.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        return True, {}

    app.include_router(ops_router(registry, {"database": database_ready,
                                             "consumer": lambda: consumer_ready(stream_app)}))
    for area in ("cases", "boards"):
        app.mount(f"/static/{area}", StaticFiles(directory=ROOT / area / "static"), name=f"static-{area}")
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    for router in (auth_router, cases_router, queues_router, boards_router, setup_router, inbox_router,
                   mailbox_router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def home(request: Request, user: UserDep):
        return render(request, "layout/home.html")

    @app.get("/cases/go", include_in_schema=False)
    async def go(case_id: str, user: UserDep):
        return RedirectResponse(f"/cases/{case_id.strip()}", status_code=303)

    _error_pages(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PATHS)


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired):
        if _wants_json(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={httpx.URL(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if _wants_json(request):
            return json_http_error(exc)
        return render(request, "layout/error.html", exc.status_code, message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        if _wants_json(request):
            return invalid(exc.errors())
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
                           for e in field_problems(exc.errors()))
        return render(request, "layout/error.html", 422, message=errors)

    @app.exception_handler(ValidationError)
    async def bad_form(request: Request, exc: ValidationError):
        errors = "; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())
        return render(request, "layout/error.html", 422, message=errors)
