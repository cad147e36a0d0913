"""`/healthz`, `/readyz` and `/metrics`, the same on every service."""
from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from estatedesk.operate.health import OK, WARN, Verdict

ReadinessCheck = Callable[[], Awaitable[tuple[bool, dict]]]
WarningCheck = Callable[[], Awaitable[Verdict]]
"""Something operations should see that does not stop the service from working."""


def ops_router(registry: CollectorRegistry, checks: dict[str, ReadinessCheck],
               warnings: dict[str, WarningCheck] | None = None) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        """Every dependency answers and every consumer is running; `warnings` lists what
        operations should fix although the service still works."""
        results = {}
        ready = True
        for name, check in checks.items():
            try:
                ok, detail = await check()
            except Exception as exc:  # a failing check means not ready, never a 500
                ok, detail = False, {"error": str(exc)}
            results[name] = {"ok": ok, **detail}
            ready = ready and ok
        found = []
        for name, warning in (warnings or {}).items():
            try:
                verdict = await warning()
            except Exception as exc:  # a warning that cannot be checked is itself worth a warning
                verdict = Verdict(WARN, name, f"not checked: {exc}")
            if verdict.level != OK:
                found.append({"check": verdict.check, "finding": verdict.finding, "advice": verdict.advice})
        return JSONResponse({"ready": ready, "checks": results, "warnings": found},
                            status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
