"""Nothing a client sends can break the services, on the real stack: strangers are refused
before their body is read, an oversized body is refused and writes nothing, a hostile field
gets a small 422 naming it, the logs stay JSON lines, and an export of hostile cases is inert."""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from openpyxl import load_workbook

from estatedesk.auth import issue_token, now_utc
from estatedesk.contracts import CASE_EVENTS, Envelope
from estatedesk.contracts.events import CaseReceived, Location, ReporterRef
from estatedesk.demo import staffed_estate
from estatedesk.eventstore import EventStore
from services.intake.handlers import envelopes_for
from tests.conftest import token_for
from tests.support import eventually, repair_case, stack_now

MiB = 1024 * 1024
JSON = {"Content-Type": "application/json"}
FORMULA = '=HYPERLINK("http://x","y")'
TOP_PROBLEMS = "高发问题 / Top problems"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


async def _received_cases(pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'CaseReceived'")


@pytest.fixture
async def stranger(stack):
    """A client of intake and analytics that carries no token."""
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


# --- 401 before the body ------------------------------------------------------------------

def _expired(stack) -> str:
    issued = now_utc() - timedelta(days=1)
    return "Bearer " + issue_token(stack.settings.estatedesk_secret, role="front_desk", estates=["E001"],
                                   user="desk-zhao", now=issued, ttl=timedelta(hours=1))


@pytest.mark.parametrize("service", ["intake", "analytics"])
@pytest.mark.parametrize("authorization", [None, "Bearer forged.token.value", "Basic ZGVzazpkZW1v", _expired])
async def test_a_malformed_body_without_a_good_token_is_401(stack, stranger, service, authorization):
    if callable(authorization):
        authorization = authorization(stack)
    headers = {**JSON, **({"Authorization": authorization} if authorization else {})}
    response = await stranger.post(f"{stack.url(service)}/v1/cases", content=b'{"title": ', headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_oversized_body_without_a_token_is_still_401(stack, stranger, pool):
    before = await _received_cases(pool)
    response = await stranger.post(f"{stack.url('intake')}/v1/cases", content=b"x" * (2 * MiB), headers=JSON)
    assert response.status_code == 401
    assert await _received_cases(pool) == before


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])
async def test_operations_and_documentation_stay_open(stack, stranger, path):
    for service in ("intake", "analytics"):
        assert (await stranger.get(f"{stack.url(service)}{path}")).status_code == 200, f"{service}{path}"


# --- 413 past the limit -------------------------------------------------------------------

async def test_an_oversized_body_is_413_and_appends_nothing(intake, pool):
    before = await _received_cases(pool)
    response = await intake.post("/v1/cases", json=repair_case(title="x" * (MiB + 1)))
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert await _received_cases(pool) == before


async def test_a_body_under_the_limit_still_goes_through(intake):
    response = await intake.post("/v1/cases", json=repair_case(description="d" * 4_000))
    assert response.status_code == 201, response.text


# --- 422: small, naming the field, never a 500 --------------------------------------------

def _ascii_json(body: dict) -> bytes:
    return json.dumps(body).encode()  # escapes a lone surrogate as \\udXXX, as a hostile client would send it


@pytest.mark.parametrize("title", ["\ud800" + "x" * 300, "x" * 900_000, "\udfff"])
async def test_a_hostile_title_is_a_small_422_naming_it(intake, pool, title):
    before = await _received_cases(pool)
    response = await intake.post("/v1/cases", content=_ascii_json(repair_case(title=title)), headers=JSON)
    assert response.status_code == 422, response.text[:500]
    assert len(response.content) < 500
    detail = response.json()["detail"]
    assert ["body", "title"] in [error["loc"] for error in detail]
    assert all(set(error) == {"loc", "msg", "type"} for error in detail)
    assert await _received_cases(pool) == before


async def test_a_hostile_field_name_is_named_briefly(intake, pool):
    body = {**repair_case(), "\ud83d" + "k" * 50_000: 1}
    response = await intake.post("/v1/cases", content=_ascii_json(body), headers=JSON)
    assert response.status_code == 422
    assert len(response.content) < 500


@pytest.mark.parametrize("body", [b'{"estate_id": "E001", "title": "caf\xe9"}', b"\xff\xfe{}", b'{"title": "a"\x00}'])
async def test_a_body_that_is_not_utf8_json_is_a_422(intake, pool, body):
    before = await _received_cases(pool)
    response = await intake.post("/v1/cases", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert await _received_cases(pool) == before


async def test_a_command_with_a_hostile_body_is_a_422_too(intake):
    case_id = (await intake.post("/v1/cases", json=repair_case())).json()["case_id"]
    response = await intake.post(f"/v1/cases/{case_id}/reply", content=_ascii_json({"answer": "\ud800" * 6_000}),
                                 headers=JSON)
    assert response.status_code == 422
    assert len(response.content) < 500


# --- logs: one JSON object per line ---------------------------------------------------------

def _log_lines(stack, service: str, offset: int) -> list[str]:
    with (stack.log_dir / f"{service}.log").open("rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8").splitlines()


async def test_service_logs_are_json_lines_with_the_event_they_concern(stack):
    consumers = ("dispatch", "sla", "analytics")
    offsets = {s: (stack.log_dir / f"{s}.log").stat().st_size for s in consumers}
    poison_id, case_id = uuid.uuid4(), f"C-LOG-{uuid.uuid4().hex[:8].upper()}"
    now = stack_now()
    # a payload that breaks its schema: every consumer dead-letters it and says so, quoting
    # pydantic's multi-line message with the quotes and Chinese of the payload
    poison = Envelope(event_id=poison_id, event_type="CaseReceived", case_id=case_id, estate_id="E001",
                      stream_version=1, occurred_at=now, recorded_at=now, producer="intake", correlation_id="x",
                      payload={"title": '王女士 said "leak"\n\ttwice'})
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(CASE_EVENTS, poison.to_bytes(), key=case_id.encode())
    finally:
        await producer.stop()

    def records(service: str) -> list[dict]:
        lines = [line for line in _log_lines(stack, service, offsets[service]) if line.strip()]
        return [json.loads(line) for line in lines]  # a line that is not JSON fails the test here

    async def every_consumer_said_so():
        found = {s: [r for r in records(s) if r.get("event_id") == str(poison_id)] for s in consumers}
        return all(found.values()) and found

    found = await eventually(every_consumer_said_so, timeout=30, what="dead-letter lines in every consumer's log")
    for service, lines in found.items():
        line = lines[0]
        assert (line["service"], line["level"], line["case_id"]) == (service, "ERROR", case_id)
        assert {"ts", "logger", "msg"} <= set(line) and "dead-lettered" in line["msg"]
    for service in consumers:
        for record in records(service):
            assert {"ts", "service", "level", "logger", "msg"} <= set(record), record


# --- exports: hostile stored text is inert ------------------------------------------------

async def _analytics_get(stack, path: str, params: dict, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url("analytics"), headers=headers, timeout=20) as client:
        return await client.get(path, params=params)


@pytest.fixture(scope="module")
async def hostile_month(stack, intake, pool):
    """An estate of its own with two cases whose texts are formulas: one sent through intake,
    one stored with a control character, as a build before the edge refused those would have."""
    estate_id = f"X{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    body = staffed_estate("Formula Court 公式苑", estate_id, 2).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", json=body, headers=admin)).status_code == 200
    desk = token_for(stack, "front_desk", (estate_id,), f"{estate_id.lower()}-desk")
    sent = await intake.post("/v1/cases", headers=desk, json={
        "estate_id": estate_id, "type": "consultation", "category": FORMULA, "channel": "phone",
        "title": FORMULA, "location": {"area": FORMULA}})
    assert sent.status_code == 201, sent.text
    received_at = datetime.fromisoformat(sent.json()["received_at"])

    stored_id = f"C-{uuid.uuid4().hex[:16].upper()}"
    fact = CaseReceived(type="consultation", category=FORMULA + "\x07", channel="phone", title=FORMULA + "\x07",
                        location=Location.model_construct(area=FORMULA + "\x1b"),  # as stored before it was refused
                        reporter=ReporterRef(), received_at=received_at)
    await EventStore(pool).append(stored_id, 0, envelopes_for(stored_id, estate_id, 0, [fact], stack_now(),
                                                              correlation_id=stored_id, occurred_at=received_at))
    month = received_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    params = {"month": month, "estate_id": estate_id}

    async def both_projected():
        answer = await _analytics_get(stack, "/v1/stats/monthly", params, admin)
        return answer.status_code == 200 and answer.json()["total"] == 2
    await eventually(both_projected, timeout=30, what="both hostile cases in the month's figures")
    return params, admin


async def test_the_csv_of_a_hostile_month_is_inert(stack, hostile_month):
    params, admin = hostile_month
    response = await _analytics_get(stack, "/v1/stats/monthly.csv", params, admin)
    assert response.status_code == 200
    assert not CONTROL.search(response.text)
    table = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    cells = [cell for row in table for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r")) or c.startswith("-") and c != "-"]
    places = [row[2] for row in table if row[0] == TOP_PROBLEMS and row[1].endswith(".location")]
    assert places == ["'" + FORMULA] * 2
    assert ["案件总数 / Total cases", "-", "2"] in table


async def test_the_xlsx_of_a_hostile_month_opens_and_holds_no_formula(stack, hostile_month):
    params, admin = hostile_month
    response = await _analytics_get(stack, "/v1/stats/monthly.xlsx", params, admin)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    rows = list(sheet.iter_rows(values_only=True))
    categories = [row[2] for row in rows if row[0] == TOP_PROBLEMS and row[1].endswith(".category")]
    assert categories == ["'" + FORMULA] * 2
    assert not [v for row in rows for v in row if isinstance(v, str) and CONTROL.search(v)]
    assert ("案件总数 / Total cases", "-", 2) in rows
