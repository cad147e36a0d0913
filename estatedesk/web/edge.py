"""What a request meets before any route: who is asking, and how much and what it sends.

FastAPI reads and decodes a JSON body before it resolves a route's dependencies, so the
token check in `security.py` alone would answer a stranger's malformed body with a 422
that describes how the API parses it, and would read a body of any size to get there.
`Edge` decides from the headers first (401 without a token that verifies), then reads the
body up to the limit (413 beyond it, before anything is parsed), then refuses a JSON body
that is not UTF-8 with the 422 a malformed body gets, which Starlette would turn into a
400. The route then reads the body as it always does, from the copy kept here.
"""
from __future__ import annotations

import email.message
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from estatedesk.auth import InvalidToken, Principal, read_token
from estatedesk.config import Settings

from .errors import field_problems, install_error_handlers
from .openapi import document_errors
from .security import PRINCIPAL_STATE

API_PREFIX = "/v1/"


class Refused(Exception):
    """No usable bearer token; the message says why."""


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(secret: str, authorization: str | None) -> Principal:
    token = bearer_token(authorization)
    if token is None:
        raise Refused("missing bearer token")
    try:
        return read_token(secret, token)
    except InvalidToken as exc:
        raise Refused(f"invalid token: {exc}") from exc


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def body_problems(body: bytes) -> list[dict[str, Any]]:
    """Why a JSON body cannot be JSON text at all; [] when the parser may have it.

    JSON text never holds a NUL byte; without one, the standard decoder reads bytes as
    UTF-8, so a body that decodes here is decoded the same way by the route."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return field_problems([{"loc": ("body", exc.start), "type": "json_invalid",
                                "msg": "JSON decode error: the body is not valid UTF-8"}])
    if b"\x00" in body:
        return field_problems([{"loc": ("body", body.index(b"\x00")), "type": "json_invalid",
                                "msg": "JSON decode error: a NUL byte"}])
    return []


def declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body, what the server says next (a disconnect)

    return replayed


class Edge:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, secret: str | None = None,
                 guarded_prefix: str = API_PREFIX) -> None:
        self.app, self.max_body_bytes, self.secret, self.guarded_prefix = app, max_body_bytes, secret, guarded_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.secret is not None and scope["path"].startswith(self.guarded_prefix):
            try:
                principal = authenticate(self.secret, headers.get("authorization"))
            except Refused as exc:
                await JSONResponse({"detail": str(exc)}, 401, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
            scope.setdefault("state", {})[PRINCIPAL_STATE] = principal
        too_large = JSONResponse(
            {"detail": f"the request body is larger than {self.max_body_bytes} bytes"}, status_code=413)
        declared = declared_length(headers)
        if declared is not None and declared > self.max_body_bytes:
            await too_large(scope, receive, send)
            return
        try:
            body = await _read_body(receive, self.max_body_bytes)
        except _Disconnected:
            return  # nobody is left to answer
        if body is None:
            await too_large(scope, receive, send)
            return
        if body and is_json(headers.get("content-type")) and (problems := body_problems(body)):
            await JSONResponse({"detail": problems}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def install_edges(app: FastAPI, settings: Settings, *, bearer_api: bool) -> None:
    """Error answers, the body limit and the documented error statuses of one service;
    `bearer_api`: its `/v1/` API takes bearer tokens, checked before the body is read.
    Call it before other middleware is added, so that request metrics see these answers too."""
    install_error_handlers(app)
    app.add_middleware(Edge, max_body_bytes=settings.estatedesk_max_body_bytes,
                       secret=settings.estatedesk_secret if bearer_api else None)
    document_errors(app)
