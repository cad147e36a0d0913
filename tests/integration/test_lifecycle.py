"""Each case type walked through its whole path on the real stack."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from estatedesk.contracts import BILLING_EVENTS, EVENT_TYPES, topic_of
from tests.conftest import token_for
from tests.support import eventually, repair_case


@pytest.fixture(scope="module")
def people(stack):
    return {
        "desk": token_for(stack, "front_desk", ("E001",), "e001-desk-zhao"),
        "staff": token_for(stack, "department_staff", ("E001",), "e001-eng-sun"),
        "head": token_for(stack, "department_head", ("E001",), "e001-eng-zhou"),
        "cleaner": token_for(stack, "department_staff", ("E001",), "e001-clean-chen"),
        "guard": token_for(stack, "department_staff", ("E001",), "e001-sec-wu"),
        "supervisor": token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian"),
        "manager": token_for(stack, "estate_manager", ("E001",), "e001-manager-wei"),
        "group": token_for(stack, "group_service_center", (), "group-center-lin"),
    }


class Walk:
    def __init__(self, intake, analytics, people, case_id):
        self.intake, self.analytics, self.people, self.case_id = intake, analytics, people, case_id

    async def do(self, command: str, who: str = "staff", expect: int = 200, **body) -> dict:
        response = await self.intake.post(f"/v1/cases/{self.case_id}/{command}", json=body,
                                          headers=self.people[who])
        assert response.status_code == expect, f"{command}: {response.status_code} {response.text}"
        return response.json()

    async def view_when(self, status: str) -> dict:
        async def probe():
            r = await self.analytics.get(f"/v1/cases/{self.case_id}")
            return r.json() if r.status_code == 200 and r.json()["status"] == status else None
        return await eventually(probe, what=f"case {self.case_id} {status}")


async def _walk(intake, analytics, people, body) -> Walk:
    created = await intake.post("/v1/cases", json=body, headers=people["desk"])
    assert created.status_code == 201, created.text
    return Walk(intake, analytics, people, created.json()["case_id"])


async def test_a_consultation_is_replied_at_the_desk_and_archived(intake, analytics, people):
    walk = await _walk(intake, analytics, people, repair_case(
        type="consultation", category="fees", title="When is the property fee due?", repair=None,
        location={"area": "front desk"}))
    await walk.do("reply", "desk", answer="By the 15th of each month", result="answered")
    done = await walk.do("archive", "desk")
    assert done["status"] == "archived" and done["allowed_commands"] == []
    view = await walk.view_when("archived")
    assert view["first_response_at"] and view["closed_at"]


async def test_a_complaint_fails_inspection_and_a_visit_before_it_is_archived(intake, analytics, people):
    walk = await _walk(intake, analytics, people, repair_case(
        type="complaint", category="environment", title="Rubbish not collected for two days", repair=None,
        complaint={"origin": "resident"}, location={"area": "building 3 bins"}))
    view = await walk.view_when("dispatched")
    assert view["departments"] == ["cleaning"]
    for command in ("accept", "start"):
        await walk.do(command, "cleaner")
    await walk.do("complete", "cleaner", result="bins emptied")
    reopened = await walk.do("inspect", "desk", passed=False, inspector_role="owner")
    assert reopened["status"] == "in_progress" and reopened["events"] == ["InspectionRecorded", "CaseReopened"]
    await walk.do("archive", "desk", expect=409)
    await walk.do("complete", "cleaner", result="bins emptied and area washed")
    await walk.do("inspect", "desk", passed=True, inspector_role="owner")
    await walk.do("review", "supervisor", notes="photos fine")
    unhappy = await walk.do("return-visit", "desk", method="phone", satisfaction="dissatisfied", comments="smells")
    assert unhappy["status"] == "in_progress"
    await walk.do("complete", "cleaner", result="disinfected")
    await walk.do("inspect", "desk", passed=True, inspector_role="owner")
    await walk.do("review", "supervisor")
    await walk.do("return-visit", "desk", method="door", satisfaction="satisfied")
    await walk.do("archive", "desk")
    view = await walk.view_when("archived")
    assert [v["satisfaction"] for v in view["return_visits"]] == ["dissatisfied", "satisfied"]


async def test_an_illegal_transition_is_refused_with_the_allowed_commands_and_changes_nothing(
        intake, analytics, people, pool):
    walk = await _walk(intake, analytics, people, repair_case())
    await walk.view_when("dispatched")
    before = await _stream(pool, walk.case_id)
    refused = await walk.do("archive", "desk", expect=409)
    assert refused["status"] == "dispatched" and "cancel" in refused["allowed_commands"]
    assert "archive" not in refused["allowed_commands"]
    await walk.do("complete", expect=409, result="x")
    await walk.do("review", "desk", expect=409)
    assert await _stream(pool, walk.case_id) == before


async def _stream(pool, case_id: str) -> list[tuple]:
    """The case's own stream as stored: (version, event type) of every event."""
    async with pool.acquire() as conn:
        return [tuple(r) for r in await conn.fetch(
            "SELECT version, event_type FROM events WHERE stream_id = $1 ORDER BY version", case_id)]


async def test_staff_of_another_estate_cannot_touch_the_case(stack, intake, analytics, people):
    walk = await _walk(intake, analytics, people, repair_case())
    outsider = token_for(stack, "supervisor", ("E002",), "e002-supervisor")
    response = await intake.post(f"/v1/cases/{walk.case_id}/cancel", json={"reason": "x"}, headers=outsider)
    assert response.status_code == 404


async def test_a_violation_penalty_is_for_the_manager_or_supervisor_only(intake, analytics, people):
    walk = await _walk(intake, analytics, people, repair_case(
        type="violation", category="decoration", title="Drilling after 22:00", repair=None,
        violation={"severity": "major"}))
    view = await walk.view_when("dispatched")
    assert view["departments"] == ["estate_manager"]
    await walk.do("accept", "manager")
    await walk.do("start", "manager")
    await walk.do("complete", "head", expect=403, result="warned", penalty_fen=50000)
    done = await walk.do("complete", "manager", result="fined", penalty_fen=50000)
    assert done["events"] == ["WorkCompleted", "ViolationPenaltyRecorded"]
    await walk.do("archive", "desk")


async def test_a_paid_repair_bills_from_the_fee_schedule_and_a_reopen_voids_the_bill(stack, intake, analytics,
                                                                                       people, pool):
    walk = await _walk(intake, analytics, people, repair_case(category="plumbing"))  # handed over 2022: 2 years
    view = await walk.view_when("dispatched")
    assert view["in_warranty"] is False
    await walk.do("accept")
    await walk.do("start")
    lines = [{"item_code": "PL-TRAP", "quantity": 2}]
    await walk.do("complete", expect=403, result="x", charge_lines=[
        {"item": "gold tap", "unit": "piece", "quantity": 1, "unit_price_fen": 99900}])  # free lines: supervisors'
    refused = await walk.do("complete", expect=422, result="x", charge_lines=[{"item_code": "PL-GOLD", "quantity": 1}])
    assert refused["detail"][0]["loc"] == ["body", "charge_lines", "0", "item_code"]
    first = await walk.do("complete", result="trap replaced", charge_lines=lines)
    assert first["events"] == ["WorkCompleted", "ChargeableWorkCompleted"]
    reopened = await walk.do("reopen", "desk", reason="still dripping")
    assert reopened["events"] == ["CaseReopened", "ChargeVoided"]
    await walk.do("complete", result="seal replaced too", charge_lines=lines + [{"item_code": "PL-SEAL", "quantity": 1}])

    bills = await _billing_messages(stack, pool, walk.case_id, expected=3)
    assert [b["event_type"] for b in bills] == ["ChargeableWorkCompleted", "ChargeVoided", "ChargeableWorkCompleted"]
    first_bill, void, second_bill = bills
    assert [b["payload"]["total_fen"] for b in (first_bill, second_bill)] == [7000, 7800]
    assert (void["payload"]["voided_event_id"], void["payload"]["reason"]) == (first_bill["event_id"], "reopened")
    assert second_bill["payload"]["supersedes_event_id"] is None  # the first no longer stands
    assert second_bill["payload"]["charge_lines"][0] == {
        "item_code": "PL-TRAP", "item": "Kitchen P-trap 厨房存水弯", "unit": "piece", "quantity": 2,
        "unit_price_fen": 3500, "total_fen": 7000}
    assert (second_bill["payload"]["household_id"], second_bill["payload"]["location_id"]) == (
        "H-3-2-1502", "3-2-1502")
    assert second_bill["payload"]["fee_schedule_version"] >= 1
    assert "王" not in json.dumps(bills, ensure_ascii=False) and "13812345678" not in json.dumps(bills)
    view = await walk.view_when("completed")
    assert [c["total_fen"] for c in view["charges"]] == [7800]
    cancelled = await walk.do("cancel", "desk", reason="resident moved out before paying")
    assert cancelled["events"] == ["CaseCancelled", "ChargeVoided"]
    view = await walk.view_when("cancelled")
    assert view["charges"] == []


async def test_charge_lines_on_covered_work_are_refused(intake, analytics, people):
    walk = await _walk(intake, analytics, people, repair_case(category="leak", title="Ceiling seeping"))
    view = await walk.view_when("dispatched")
    assert view["in_warranty"] is True  # waterproofing: 5 years from the 2022 handover
    await walk.do("accept")
    await walk.do("start")
    await walk.do("complete", expect=422, result="x", charge_lines=[{"item_code": "PL-TRAP", "quantity": 1}])


async def test_a_rejected_repair_is_routed_to_another_department(stack, intake, analytics, people):
    walk = await _walk(intake, analytics, people, repair_case())
    await walk.view_when("dispatched")
    await walk.do("reject", reason="this is a public drain, not ours")

    async def rerouted():
        r = await analytics.get(f"/v1/cases/{walk.case_id}")
        view = r.json()
        return view if view["status"] == "dispatched" and view["departments"] not in ([], ["engineering"]) else None
    view = await eventually(rerouted, what="re-routed after rejection")
    assert "engineering" not in view["departments"]
    assert view["assignee"] == "e001-supervisor-qian"  # only engineering takes repairs: the supervisor decides


async def test_repeating_a_command_with_its_key_answers_the_same_and_records_once(intake, analytics, people, pool):
    walk = await _walk(intake, analytics, people, repair_case())
    await walk.view_when("dispatched")
    key = {**people["staff"], "Idempotency-Key": str(uuid.uuid4())}
    answers = await asyncio.gather(*(intake.post(f"/v1/cases/{walk.case_id}/accept", json={}, headers=key)
                                     for _ in range(4)))
    assert {a.status_code for a in answers} == {200}
    assert [a.json() for a in answers[1:]] == [answers[0].json()] * 3
    assert answers[0].json()["status"] == "accepted"
    async with pool.acquire() as conn:
        accepted = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'CaseAccepted'", walk.case_id)
    assert accepted == 1


async def _counts(pool, case_id: str, *kinds: str) -> list[int]:
    async with pool.acquire() as conn:
        return [await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = $2",
                                    case_id, kind) for kind in kinds]


async def test_a_completion_with_charge_lines_repeated_with_its_key_records_one_completion_and_one_bill(
        stack, intake, analytics, people, pool):
    walk = await _walk(intake, analytics, people, repair_case(category="plumbing", title="Tap dripping"))
    assert (await walk.view_when("dispatched"))["in_warranty"] is False
    await walk.do("accept")
    await walk.do("start")
    key = {**people["staff"], "Idempotency-Key": str(uuid.uuid4())}
    body = {"result": "washer replaced", "charge_lines": [{"item_code": "PL-WASHER", "quantity": 3}]}
    answers = await asyncio.gather(*(intake.post(f"/v1/cases/{walk.case_id}/complete", json=body, headers=key)
                                     for _ in range(3)))
    answers.append(await intake.post(f"/v1/cases/{walk.case_id}/complete", json=body, headers=key))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert [a.json() for a in answers[1:]] == [answers[0].json()] * 3
    assert answers[0].json()["events"] == ["WorkCompleted", "ChargeableWorkCompleted"]
    assert await _counts(pool, walk.case_id, "WorkCompleted", "ChargeableWorkCompleted") == [1, 1]
    [bill] = await _billing_messages(stack, pool, walk.case_id, expected=1)
    assert (bill["payload"]["total_fen"], bill["payload"]["reason"]) == (450, "out_of_warranty_repair")


async def test_paid_help_bills_its_charge_lines_at_completion(stack, intake, analytics, people, pool):
    walk = await _walk(intake, analytics, people, repair_case(
        type="help", category="other", title="Carry a sofa upstairs", repair=None, help={"paid": True},
        location={"building": "3", "unit": "2", "room": "1502"}))
    assert (await walk.view_when("dispatched"))["departments"] == ["customer_service"]
    for command in ("accept", "start"):
        await walk.do(command, "supervisor")
    lines = [{"item": "porter, per hour", "unit": "hour", "quantity": 2, "unit_price_fen": 5000}]
    done = await walk.do("complete", "supervisor", result="sofa carried up", charge_lines=lines)  # a free line
    assert done["events"] == ["WorkCompleted", "ChargeableWorkCompleted"]
    [bill] = await _billing_messages(stack, pool, walk.case_id, expected=1)
    assert bill["event_type"] == "ChargeableWorkCompleted"
    assert (bill["payload"]["reason"], bill["payload"]["total_fen"]) == ("paid_help", 10000)
    assert bill["payload"]["charge_lines"] == [{**lines[0], "item_code": None, "total_fen": 10000}]
    view = await walk.view_when("completed")
    assert [c["total_fen"] for c in view["charges"]] == [10000]


BILLING_EVENT_TYPES = tuple(name for name in EVENT_TYPES if topic_of(name) == BILLING_EVENTS)


async def _billing_messages(stack, pool, case_id: str, expected: int) -> list[dict]:
    """The case's bills and voids on billing-events, one per event id (delivery is at least once), once
    the topic holds `expected` of them; the store must hold exactly those."""
    consumer = AIOKafkaConsumer("billing-events", bootstrap_servers=stack.settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=10)
    await consumer.start()
    try:
        found: dict[str, dict] = {}

        async def collect():
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                found.update((m["event_id"], m) for m in (json.loads(x.value) for x in messages)
                             if m["case_id"] == case_id)
            return len(found) >= expected
        await eventually(collect, timeout=30, what="charges on billing-events")
    finally:
        await consumer.stop()
    async with pool.acquire() as conn:
        stored = [str(r["event_id"]) for r in await conn.fetch(
            "SELECT event_id FROM events WHERE case_id = $1 AND event_type = ANY($2) ORDER BY position",
            case_id, list(BILLING_EVENT_TYPES))]
    assert list(found) == stored, (list(found), stored)
    return list(found.values())


async def test_a_second_complaint_from_the_household_on_the_same_matter_is_flagged(intake, analytics, people):
    body = repair_case(type="complaint", category="noise", title="Karaoke until 2 a.m.", repair=None,
                       complaint={"origin": "resident"},
                       reporter={"name": "李先生", "phone": "13900001111", "household_id": f"H-{uuid.uuid4().hex[:6]}"})
    first = await _walk(intake, analytics, people, body)
    second = await _walk(intake, analytics, people, {**body, "title": "Karaoke again"})
    view = await second.view_when("dispatched")
    assert view["repeat_of"] == first.case_id
    assert "RepeatComplaintDetected" in [h["event_type"] for h in view["history"]]


async def test_a_group_transferred_complaint_reports_progress_for_the_group_register(intake, analytics, people, pool):
    walk = await _walk(intake, analytics, {**people, "desk": people["group"]}, repair_case(
        type="complaint", category="service", title="Rude guard at the gate", repair=None, channel="group_transfer",
        complaint={"origin": "group_center", "group_ref": "GRP-2026-1182"}, location={"area": "north gate"}))
    await walk.do("progress", "supervisor", note="guard interviewed, apology made")
    async with pool.acquire() as conn:
        note = await conn.fetchval("SELECT payload FROM events WHERE stream_id = $1 AND event_type = 'ProgressNoted'",
                                   walk.case_id)
    assert '"for_group_register": true' in note and '"group_ref": "GRP-2026-1182"' in note


async def test_overriding_the_derived_warranty_needs_a_reason(intake, people):
    body = repair_case(repair={"scope": "in_home", "in_warranty": True})
    refused = await intake.post("/v1/cases", json=body, headers=people["desk"])
    assert refused.status_code == 422
    assert ["body", "repair", "override_reason"] in [e["loc"] for e in refused.json()["detail"]]
    body["repair"]["override_reason"] = "developer agreed to cover it"
    assert (await intake.post("/v1/cases", json=body, headers=people["desk"])).status_code == 201


async def test_the_openapi_document_shows_every_command_with_an_example(stack):
    import httpx

    async with httpx.AsyncClient() as client:
        spec = (await client.get(f"{stack.url('intake')}/openapi.json")).json()
    commands = {path.rsplit("/", 1)[1] for path in spec["paths"] if path.startswith("/v1/cases/{case_id}/")}
    assert commands == {"reply", "accept", "start", "pause", "resume", "transfer", "reject", "complete", "inspect",
                        "review", "return-visit", "reopen", "cancel", "merge", "archive", "progress", "close-visit",
                        "acknowledge-mailbox", "violation-step", "sign-off-penalty"}
    for path, item in spec["paths"].items():
        if path.startswith("/v1/cases/{case_id}/"):
            assert item["post"]["requestBody"]["content"]["application/json"]["examples"], path


CLOSURE = (("inspect", "desk", {"passed": True, "inspector_role": "owner"}),
           ("review", "supervisor", {}), ("return-visit", "desk", {"method": "phone", "satisfaction": "satisfied"}))
def work(who: str = "staff") -> tuple:
    return ("accept", who, {}), ("start", who, {}), ("complete", who, {"result": "done"})


WORK = work()


@pytest.mark.parametrize("body, departments, path", [
    (repair_case(category="leak", title="Bathroom ceiling seeping"), ["engineering"],
     (*WORK, *CLOSURE, ("archive", "desk", {}))),
    (repair_case(type="help", category="medical", title="Resident fell on the stairs", repair=None,
                 help={"serious": False}), ["security", "customer_service"], (*work("guard"), ("archive", "desk", {}))),
    (repair_case(type="suggestion", category="greenery", title="More benches by the pond", repair=None,
                 location={"area": "pond"}), ["customer_service"],
     (("reply", "desk", {"answer": "passed to the estate manager"}), ("archive", "desk", {}))),
    (repair_case(type="repair", category="lighting", title="Corridor light out", repair={"scope": "public_area"},
                 location={"building": "2"}), ["engineering"],
     (*WORK, *CLOSURE, ("archive", "desk", {}))),
], ids=["in-home repair", "medical help", "suggestion", "public-area repair"])
async def test_each_case_type_walks_its_whole_path_to_the_archive(intake, analytics, people, body, departments, path):
    walk = await _walk(intake, analytics, people, body)
    view = await walk.view_when("dispatched")
    assert view["departments"] == departments
    for command, who, data in path:
        await walk.do(command, who, **data)
    view = await walk.view_when("archived")
    assert view["closed_at"] is not None
