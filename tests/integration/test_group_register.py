"""The group's complaint register (002 §4.2.2) on the real stack: a complaint the group centre
transfers in is worked at the estate; its progress notes and final result reach
`GET /v1/group-register`, and archiving it publishes the result on case-events for the group."""
from __future__ import annotations

import json
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest

from estatedesk.contracts import CASE_EVENTS
from tests.broker import read_topics
from tests.conftest import token_for
from tests.support import StoryCase, eventually, repair_case, signed_in_console, stack_now


@pytest.fixture(scope="module")
def people(stack):
    return {
        "desk": token_for(stack, "front_desk", ("E001",), "e001-desk-zhao"),
        "supervisor": token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian"),
        "group": token_for(stack, "group_service_center", (), "group-center-lin"),
        "other_desk": token_for(stack, "front_desk", ("E002",), "e002-desk-zhao"),
        "staff": token_for(stack, "department_staff", ("E001",), "e001-eng-sun"),
        "butler": token_for(stack, "butler", ("E001",), "e001-butler-li"),
        "resident": token_for(stack, "resident", ("E001",), "resident-h", household="H-3-2-1502"),
    }


def _month() -> str:
    return stack_now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


async def _register(analytics, who: dict, **params) -> dict:
    r = await analytics.get("/v1/group-register", params={"month": _month(), **params}, headers=who)
    assert r.status_code == 200, r.text
    return r.json()


async def _entry(analytics, who: dict, case_id: str, **params) -> dict | None:
    return next((i for i in (await _register(analytics, who, **params))["items"] if i["case_id"] == case_id), None)


async def _results_reported(analytics, who: dict) -> int:
    r = await analytics.get("/v1/stats/monthly", params={"month": _month(), "estate_id": "E001"}, headers=who)
    assert r.status_code == 200, r.text
    return r.json()["group_register"]["results_reported"]


async def _published(stack, case_id: str) -> list[dict]:
    contents = await read_topics(stack.settings.kafka_bootstrap_servers, (CASE_EVENTS,))
    return [envelope for _, _, _, key, envelope in contents.messages
            if key == case_id and envelope["event_type"] == "GroupComplaintResultReported"]


async def test_a_transferred_complaints_notes_and_result_reach_the_register_and_the_group(
        stack, intake, analytics, people, pool):
    ref = f"GRP-{uuid.uuid4().hex[:8]}"
    filed = await intake.post("/v1/cases", headers=people["group"], json=repair_case(
        type="complaint", category="service", title="Rude guard at the gate", repair=None, channel="group_transfer",
        complaint={"origin": "group_center", "group_ref": ref}, location={"area": "north gate"}))
    assert filed.status_code == 201, filed.text
    case = StoryCase(intake, analytics, people, filed.json()["case_id"])
    await case.do("progress", "group", note="transferred from the group hotline")
    await case.view_when(lambda v: v["status"] == "dispatched", "dispatched")
    await case.do("accept", "supervisor", department="customer_service")
    await case.do("start", "supervisor")
    await case.do("progress", "supervisor", note="guard interviewed")
    await case.do("complete", "supervisor", result="guard retrained, apology accepted")
    await case.do("inspect", "desk", passed=True, inspector_role="property_assistant")
    await case.do("review", "supervisor")
    await case.do("return-visit", "desk", method="phone", satisfaction="satisfied")

    owed = await eventually(lambda: _entry(analytics, people["group"], case.case_id), what="on the register")
    assert (owed["group_ref"], owed["origin"], owed["result"]) == (ref, "group_center", None)
    before = await _results_reported(analytics, people["desk"])

    archived = await case.do("archive", "desk")
    assert archived["events"] == ["CaseArchived", "GroupComplaintResultReported"]

    async def closed():
        entry = await _entry(analytics, people["group"], case.case_id)
        return entry if entry and entry["result"] else None
    entry = await eventually(closed, what="the result on the register")
    assert [n["note"] for n in entry["progress_notes"]] == ["transferred from the group hotline", "guard interviewed"]
    assert (entry["status"], entry["result"]["outcome"], entry["result"]["result"],
            entry["result"]["satisfaction"]) == ("archived", "archived", "guard retrained, apology accepted",
                                                 "satisfied")
    assert await _entry(analytics, people["desk"], case.case_id) == entry  # the estate's desk keeps the same book
    assert await _entry(analytics, people["other_desk"], case.case_id) is None
    assert await eventually(lambda: _results_reported_is(analytics, people["desk"], before + 1),
                            what="the month's results reported")

    async with pool.acquire() as conn:
        last_two = await conn.fetch(
            "SELECT event_type, recorded_at FROM events WHERE stream_id = $1"
            " ORDER BY version DESC LIMIT 2", case.case_id)
    assert [r["event_type"] for r in last_two] == ["GroupComplaintResultReported", "CaseArchived"]
    assert last_two[0]["recorded_at"] == last_two[1]["recorded_at"]  # one append

    # delivery is at least once: a relay retried after a lost acknowledgement may publish it twice
    published = (await eventually(lambda: _published(stack, case.case_id), timeout=30, what="published"))[0]
    assert published["estate_id"] == "E001" and published["payload"]["group_ref"] == ref
    assert published["payload"]["result"] == "guard retrained, apology accepted"
    assert "王女士" not in json.dumps(published, ensure_ascii=False) and "13812345678" not in json.dumps(published)

    console = await _signed_in(stack, pool, "group_service_center")
    try:
        page = await console.get("/boards/group-register", params={"month": _month()})
        assert page.status_code == 200 and ref in page.text
        assert "guard interviewed" in page.text and "guard retrained, apology accepted" in page.text
    finally:
        await console.aclose()


async def _signed_in(stack, pool, role: str) -> httpx.AsyncClient:
    return await signed_in_console(stack, pool, role, [])


async def _results_reported_is(analytics, who: dict, expected: int) -> bool:
    return await _results_reported(analytics, who) == expected


@pytest.mark.parametrize("who", ["resident", "staff", "butler"])
async def test_roles_that_do_not_keep_the_register_may_not_read_it(analytics, people, who):
    r = await analytics.get("/v1/group-register", params={"month": _month()}, headers=people[who])
    assert r.status_code == 403, r.text


async def test_the_register_of_another_estate_is_refused(analytics, people):
    r = await analytics.get("/v1/group-register", params={"month": _month(), "estate_id": "E001"},
                            headers=people["other_desk"])
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("params, field", [
    ({}, "month"), ({"month": "2026-13"}, "month"), ({"month": "junk"}, "month"), ({"month": "1999-12"}, "month"),
    ({"month": "2026-11", "estate_id": "E 001;"}, "estate_id"), ({"month": "2026-11", "estate_id": ""}, "estate_id"),
])
async def test_junk_parameters_are_refused_naming_the_parameter(analytics, people, params, field):
    r = await analytics.get("/v1/group-register", params=params, headers=people["group"])
    assert r.status_code == 422, r.text
    assert ["query", field] in [e["loc"] for e in r.json()["detail"]]
