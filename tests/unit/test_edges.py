"""The edge of every service: a stranger is refused before the body is read, a body past the
limit is never parsed, and an error answer never repeats what was sent nor fails to encode."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from estatedesk.auth import issue_token
from estatedesk.config import Settings
from estatedesk.web.edge import Edge, bearer_token, body_problems, install_edges, is_json
from estatedesk.web.errors import MAX_ECHO, field_problems, safe_text
from estatedesk.web.security import PrincipalDep

SECRET = "unit-test-secret-of-at-least-32-bytes"
LIMIT = 10_000
TOKEN = issue_token(SECRET, role="front_desk", estates=["E001"], user="zhao", now=datetime.now(timezone.utc))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)


def small_service() -> tuple[FastAPI, list]:
    app = FastAPI()
    settings = Settings(estatedesk_secret=SECRET, estatedesk_max_body_bytes=LIMIT)
    app.state.settings = settings
    install_edges(app, settings, bearer_api=True)
    handled: list = []

    @app.post("/v1/things")
    async def post_thing(body: ThingIn, principal: PrincipalDep) -> dict:
        handled.append((principal.user, body.title))
        return {"title": body.title}

    @app.get("/v1/refusal")
    async def refusal(principal: PrincipalDep) -> dict:
        raise HTTPException(404, "no thing \ud800" + "x" * 10_000)

    @app.get("/v1/while-the-database-is-away")
    async def database_away(principal: PrincipalDep) -> dict:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app, handled


@pytest.fixture
async def service():
    app, handled = small_service()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        yield client, handled


def _field_errors(response: httpx.Response) -> list[dict]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    for error in detail:
        assert set(error) == {"loc", "msg", "type"}, error
    return detail


# --- who is asking: decided from the headers alone ----------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": "Bearer "}])
async def test_a_malformed_body_without_a_good_token_is_401_not_422(service, headers):
    client, handled = service
    response = await client.post("/v1/things", content=b"{not json", headers={**JSON, **headers})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)
    assert handled == []


async def test_operations_endpoints_stay_open(service):
    client, _ = service
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200


async def test_a_good_token_reaches_the_route_with_its_principal(service):
    client, handled = service
    response = await client.post("/v1/things", json={"title": "Kitchen pipe"}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert handled == [("zhao", "Kitchen pipe")]


@pytest.mark.parametrize("header, token", [
    ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER  abc ", "abc"),
    (None, None), ("", None), ("Bearer", None), ("Basic abc", None), ("Token abc", None),
])
def test_bearer_token_reads_the_scheme_case_blind(header, token):
    assert bearer_token(header) == token


async def _call_edge(headers: list[tuple[bytes, bytes]], path: str = "/v1/things") -> tuple[int, int]:
    """Run the bare middleware; the status it answers and how often it asked for the body."""
    reads, sent = 0, []

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        raise AssertionError("the route must not run")

    edge = Edge(app, max_body_bytes=LIMIT, secret=SECRET)
    await edge({"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b""},
               receive, send)
    return sent[0]["status"], reads


async def test_refusals_on_the_headers_never_read_the_body():
    assert await _call_edge([(b"content-type", b"application/json")]) == (401, 0)
    assert await _call_edge([(b"authorization", f"Bearer {TOKEN}".encode()),
                             (b"content-length", str(LIMIT + 1).encode())]) == (413, 0)


# --- how much: past the limit, nothing is parsed -----------------------------------------

async def test_a_body_past_the_limit_is_413_in_json(service):
    client, handled = service
    response = await client.post("/v1/things", json={"title": "x" * LIMIT}, headers=AUTH)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert handled == []


async def test_a_streamed_body_without_a_length_is_cut_at_the_limit(service):
    client, handled = service

    async def chunks():
        yield b'{"title": "'
        for _ in range(LIMIT // 1000 + 1):
            yield b"x" * 1000
        yield b'"}'

    response = await client.post("/v1/things", content=chunks(), headers={**AUTH, **JSON})
    assert response.status_code == 413
    assert handled == []


# --- what: every 422 names the field and repeats nothing ---------------------------------

async def test_a_too_long_title_is_a_small_422_naming_the_field(service):
    client, _ = service
    response = await client.post("/v1/things", json={"title": "x" * 9_000}, headers=AUTH)
    assert [e["loc"] for e in _field_errors(response)] == [["body", "title"]]
    assert len(response.content) < 300
    assert "xxxxxxxxxx" not in response.text


@pytest.mark.parametrize("title", ["\\ud800", "\\ud800" + "y" * 500, "a\\udfffb"])
async def test_a_lone_surrogate_is_a_422_naming_the_field_not_a_500(service, title):
    client, _ = service
    body = b'{"title": "' + title.encode() + b'"}'
    response = await client.post("/v1/things", content=body, headers={**AUTH, **JSON})
    assert [e["loc"] for e in _field_errors(response)] == [["body", "title"]]
    assert len(response.content) < 300
    response.content.decode("utf-8")  # the answer is UTF-8 through and through


@pytest.mark.parametrize("key", ["\\udc00", "k" * 5_000, "\\ud83d" + "k" * 5_000])
async def test_an_unknown_field_is_named_but_not_repeated_at_length(service, key):
    client, _ = service
    body = b'{"title": "a", "' + key.encode() + b'": 1}'
    response = await client.post("/v1/things", content=body, headers={**AUTH, **JSON})
    detail = _field_errors(response)
    assert all(len(str(part)) <= MAX_ECHO for error in detail for part in error["loc"])
    assert len(response.content) < 300
    response.content.decode("utf-8")


@pytest.mark.parametrize("body, position", [
    (b"{not json", 1), (b'{"title": "\xff\xfe"}', 11), (b'\x00{"title": "a"}', 0),
    (b'{"title": "caf\xc3"}', 14),
])
async def test_a_body_that_is_not_json_text_is_a_422(service, body, position):
    client, handled = service
    detail = _field_errors(await client.post("/v1/things", content=body, headers={**AUTH, **JSON}))
    assert (detail[0]["type"], detail[0]["loc"]) == ("json_invalid", ["body", position])
    assert handled == []


async def test_an_http_error_detail_is_cut_and_encodable(service):
    client, _ = service
    response = await client.get("/v1/refusal", headers=AUTH)
    assert response.status_code == 404
    assert len(response.json()["detail"]) <= 500
    assert "\ufffd" in response.json()["detail"]


def test_field_problems_keep_where_and_what_but_never_the_input():
    errors = [
        {"type": "string_too_long", "loc": ("body", "title"), "msg": "String should have at most 200 characters",
         "input": "x" * 10_000_000, "ctx": {"max_length": 200}},
        {"type": "extra_forbidden", "loc": ("body", "\ud800" + "k" * 1_000), "msg": "Extra inputs are not permitted",
         "input": 1},
        {"type": "json_invalid", "loc": ("body", 7), "msg": "JSON decode error", "input": {},
         "ctx": {"error": "Expecting ',' delimiter"}},
    ]
    too_long, extra, malformed = field_problems(errors)
    assert too_long == {"loc": ["body", "title"], "msg": "String should have at most 200 characters",
                        "type": "string_too_long"}
    assert len(extra["loc"][1]) == MAX_ECHO and extra["loc"][1].startswith("\ufffd")
    assert malformed == {"loc": ["body", 7], "msg": "JSON decode error: Expecting ',' delimiter",
                         "type": "json_invalid"}
    json.dumps(field_problems(errors), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("text, expected", [
    ("short", "short"), ("\udfff", "\ufffd"), ("a" * 150, "a" * (MAX_ECHO - 1) + "…"), (42, "42"),
])
def test_safe_text(text, expected):
    assert safe_text(text) == expected


@pytest.mark.parametrize("content_type, expected", [
    ("application/json", True), ("application/json; charset=utf-8", True), ("application/merge-patch+json", True),
    ("text/plain", False), ("application/x-www-form-urlencoded", False), (None, False), ("", False),
])
def test_which_bodies_are_json(content_type, expected):
    assert is_json(content_type) is expected


def test_utf8_json_text_passes():
    assert body_problems('{"title": "王女士 \\ud800"}'.encode()) == []


async def test_a_lost_database_connection_is_a_503_with_retry_after_not_a_500(service):
    client, _ = service
    response = await client.get("/v1/while-the-database-is-away", headers=AUTH)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "retry" in response.json()["detail"]
