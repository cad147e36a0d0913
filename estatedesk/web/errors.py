"""Error answers every service gives, whatever the client sent.

FastAPI's own 422 echoes each field's `input` (and `ctx`) back: a 10 MB title comes back
as a 10 MB answer, and a lone surrogate in it (JSON `"\\ud800"`) cannot be encoded as
UTF-8, so the error handler itself fails with a 500. Here a 422 names each field and
problem, `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`, and nothing it
carries can be large or unencodable: the input is never repeated, and any text that does
come from the request (a field name in `loc`, a value a message quotes) is cut short and
made encodable.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from estatedesk.eventstore.outage import DATABASE_AWAY, RETRY_AFTER_S

log = logging.getLogger(__name__)

MAX_ECHO = 100
"""Longest text taken from a request (a field name, a quoted value) that an answer repeats."""
MAX_MESSAGE = 200
"""Longest message; messages are the services' own words, which may quote a short value."""
MAX_DETAIL = 500
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NO_BODY = frozenset({204, 304})


def safe_text(value: object, limit: int = MAX_ECHO) -> str:
    """`value` as text any JSON encoder and UTF-8 stream can carry, at most `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _SURROGATE.sub("\ufffd", text)


def _loc_part(part: object) -> str | int:
    return part if isinstance(part, int) and not isinstance(part, bool) else safe_text(part)


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors (pydantic's or the domain's, as dicts) reduced to loc, msg and type."""
    problems = []
    for error in errors:
        msg = str(error.get("msg") or "is not valid")
        reason = (error.get("ctx") or {}).get("error") if error.get("type") == "json_invalid" else None
        if isinstance(reason, str):  # the decoder's own words ("Expecting ',' delimiter"), never the body
            msg = f"{msg}: {reason}"
        problems.append({"loc": [_loc_part(p) for p in error.get("loc") or ()],
                         "msg": safe_text(msg, MAX_MESSAGE),
                         "type": safe_text(error.get("type") or "value_error")})
    return problems


def invalid(errors: Iterable[Mapping[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": field_problems(errors)}, status_code=422)


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value, MAX_DETAIL)
    if isinstance(value, Mapping):
        return {safe_text(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encodable(v) for v in value]
    return value


def http_error(exc: StarletteHTTPException) -> Response:
    headers = getattr(exc, "headers", None)
    if exc.status_code in _NO_BODY:
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": _encodable(exc.detail)}, status_code=exc.status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid(exc.errors())

    async def on_http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return http_error(exc)

    async def on_database_away(_: Request, exc: BaseException) -> JSONResponse:
        log.warning("database unreachable (%s); answering 503", type(exc).__name__)
        return JSONResponse({"detail": "the database is unreachable for a moment; retry shortly"},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for kind in DATABASE_AWAY:
        app.add_exception_handler(kind, on_database_away)
