"""Input an attacker or a careless administrator sends: every class answers a 4xx naming the
field and appends nothing; a set-up or policy that passes is one every service can apply."""
from __future__ import annotations

import json
import uuid

import pytest

from estatedesk.demo import staffed_estate
from estatedesk.streams import estate_stream
from tests.conftest import token_for
from tests.support import eventually, repair_case


async def _count(pool, sql: str, *args) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def _cases_received(pool) -> int:
    return await _count(pool, "SELECT count(*) FROM events WHERE event_type = 'CaseReceived'")


def _fields(response) -> list[str]:
    return [".".join(map(str, error["loc"])) for error in response.json()["detail"]]


def _names(response, field: str) -> bool:
    """The 422 names `field` itself or a part of it."""
    return any(f == field or f.startswith(field + ".") for f in _fields(response))


def _complaint(**complaint) -> dict:
    return repair_case(type="complaint", category="noise", repair=None, complaint=complaint)


NESTED = {"scope": "in_home"}
for _ in range(60):
    NESTED = {"scope": NESTED}


@pytest.mark.parametrize("body, field", [
    (repair_case(title="Leak\u0000"), "body.title"),
    (repair_case(title="Leak\u0007 in the kitchen"), "body.title"),
    (repair_case(description="under the sink\u001b[31m"), "body.description"),
    (repair_case(reporter={"name": "王\u0000", "household_id": "H-3-2-1502"}), "body.reporter.name"),
    (repair_case(reporter={"household_id": "H-3-2-1502\u0000"}), "body.reporter.household_id"),
    (repair_case(location={"building": "3\u0000", "unit": "2", "room": "1502"}), "body.location.building"),
    (repair_case(estate_id="E001\u0000"), "body.estate_id"),
    (_complaint(related_case_id=12345), "body.complaint.related_case_id"),
    (repair_case(repair={"scope": "in_home", "in_warranty": "maybe"}), "body.repair.in_warranty"),
    (repair_case(repair=NESTED), "body.repair.scope"),
    (repair_case(repair={"scope": "in_home", "phone": "13812345678"}), "body.repair.phone"),
    (_complaint(origin="resident", contact="王女士 13812345678"), "body.complaint.contact"),
    (repair_case(received_at=1796112000), "body.received_at"),
    (repair_case(title=["Leak"]), "body.title"),
])
async def test_a_hostile_case_body_is_a_422_naming_the_field_and_writes_nothing(intake, pool, body, field):
    before = await _cases_received(pool)
    response = await intake.post("/v1/cases", json=body)
    assert response.status_code == 422, response.text
    assert _names(response, field), _fields(response)
    assert await _cases_received(pool) == before


def _with_raw(field: str, raw: str) -> bytes:
    """A case body whose `field` is the raw JSON string `raw` (escapes json.dumps would not write)."""
    body = repair_case()
    body.pop(field)
    return (json.dumps(body, ensure_ascii=False)[:-1] + f', "{field}": "{raw}"}}').encode()


@pytest.mark.parametrize("field, raw", [
    ("title", "\\ud800 leak"),  # a lone surrogate: UTF-8 cannot encode it, PostgreSQL cannot store it
    ("description", "\\udfff"),
])
async def test_a_lone_surrogate_is_a_422_not_a_500(intake, pool, field, raw):
    before = await _cases_received(pool)
    response = await intake.post("/v1/cases", content=_with_raw(field, raw),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert f"body.{field}" in _fields(response)
    assert await _cases_received(pool) == before


async def test_json_nested_beyond_reason_is_a_4xx_not_a_500(intake, pool):
    body = json.dumps(repair_case())[:-1] + ', "violation": ' + "[" * 50_000 + "]" * 50_000 + "}"
    before = await _cases_received(pool)
    response = await intake.post("/v1/cases", content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text[:300]  # valid JSON, but too deep to parse at all
    assert len(response.content) < 500
    assert await _cases_received(pool) == before


async def _case_version(pool, case_id: str) -> int:
    return await _count(pool, "SELECT max(version) FROM events WHERE stream_id = $1", case_id)


@pytest.mark.parametrize("command, body, field", [
    ("progress", {"note": "parts \u0000 ordered"}, "body.note"),
    ("pause", {"reason": "waiting_on_resident", "note": "away\u0000"}, "body.note"),
    ("complete", {"result": "done", "penalty_fen": "100"}, "body.penalty_fen"),
    ("complete", {"result": "done", "charge_lines": [{"item": "trap", "quantity": "1", "unit_price_fen": 100}]},
     "body.charge_lines.0.quantity"),
    ("complete", {"result": "done", "charge_lines": [{"item": "trap", "quantity": 1, "unit_price_fen": 2**64}]},
     "body.charge_lines.0.unit_price_fen"),
    ("merge", {"into_case_id": "C-1\u0000"}, "body.into_case_id"),
    ("accept", {"department": {"name": "engineering"}}, "body.department"),
])
async def test_a_hostile_command_body_is_a_422_and_the_case_is_unchanged(stack, intake, pool, command, body, field):
    case_id = (await intake.post("/v1/cases", json=repair_case())).json()["case_id"]
    before = await _case_version(pool, case_id)
    manager = token_for(stack, "estate_manager", ("E001",), "e001-manager-wei")
    response = await intake.post(f"/v1/cases/{case_id}/{command}", json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert _names(response, field), _fields(response)
    assert await _case_version(pool, case_id) == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2999-01-01", 20261201])
async def test_daily_feedback_for_an_absurd_day_is_refused(stack, intake, pool, day):
    head = token_for(stack, "department_head", ("E001",), "e001-eng-head")
    before = await _count(pool, "SELECT count(*) FROM events WHERE stream_id = $1", estate_stream("E001"))
    response = await intake.post("/v1/estates/E001/daily-feedback", headers=head,
                                 json={"department": "engineering", "day": day, "summary": "all done"})
    assert response.status_code == 422, response.text
    assert "body.day" in _fields(response)
    assert await _count(pool, "SELECT count(*) FROM events WHERE stream_id = $1", estate_stream("E001")) == before


@pytest.mark.parametrize("day, status, field", [
    ("0001-01-01", 422, "query.day"), ("2026-02-30", 422, "query.day"), ("yesterday", 422, "query.day"),
    ("2100-12-31", 422, "query.day")])  # a day still to come, refused by the estate's own calendar
async def test_reading_daily_feedback_for_an_impossible_day_is_a_422_naming_it(stack, intake, day, status, field):
    head = token_for(stack, "department_head", ("E001",), "e001-eng-head")
    response = await intake.get("/v1/estates/E001/daily-feedback", headers=head, params={"day": day})
    assert response.status_code == status, response.text
    assert field in _fields(response)


async def test_daily_feedback_is_read_by_the_estate_s_staff_only(stack, intake):
    resident = token_for(stack, "resident", ("E001",), "h-3-2-1502")
    other = token_for(stack, "supervisor", ("E002",), "e002-supervisor")
    head = token_for(stack, "department_head", ("E001",), "e001-eng-head")
    assert (await intake.get("/v1/estates/E001/daily-feedback", headers=resident)).status_code == 403
    assert (await intake.get("/v1/estates/E001/daily-feedback", headers=other)).status_code == 403
    assert (await intake.get("/v1/estates/E404/daily-feedback",
                             headers=token_for(stack, "group_admin", (), "group-admin"))).status_code == 404
    today = await intake.get("/v1/estates/E001/daily-feedback", headers=head)
    assert today.status_code == 200 and today.json()["estate_id"] == "E001", today.text
    assert {row["department"] for row in today.json()["departments"]} >= {"engineering", "security"}


# --- estate set-up and policy -------------------------------------------------------------


def _admin(stack) -> dict:
    return token_for(stack, "group_admin", (), "group-admin")


def _setup(**changes) -> dict:
    return {**staffed_estate("Hostile Court", "EH", 2).model_dump(mode="json"), **changes}


async def _estate_events(pool, estate_id: str) -> int:
    return await _count(pool, "SELECT count(*) FROM events WHERE stream_id = $1", estate_stream(estate_id))


@pytest.fixture
async def estate_id(stack, intake) -> str:
    estate_id = f"EH{uuid.uuid4().hex[:6].upper()}"
    response = await intake.put(f"/v1/estates/{estate_id}", json=_setup(), headers=_admin(stack))
    assert response.status_code == 200, response.text
    return estate_id


_TRAP = {"code": "PL-TRAP", "name": "Kitchen P-trap", "unit": "piece", "price_fen": 3500}


@pytest.mark.parametrize("body, field", [
    ({"items": [_TRAP, _TRAP]}, "body.items"),
    ({"items": [{**_TRAP, "price_fen": -1}]}, "body.items.0.price_fen"),
    ({"items": [{**_TRAP, "price_fen": "35.00"}]}, "body.items.0.price_fen"),
    ({"items": [{**_TRAP, "code": "../etc"}]}, "body.items.0.code"),
    ({"items": [{**_TRAP, "name": ""}]}, "body.items.0.name"),
    ({"items": [{**_TRAP, "discount": 5}]}, "body.items.0.discount"),
    ({"items": [_TRAP], "currency": "USD"}, "body.currency"),
])
async def test_a_bad_fee_schedule_is_a_422_naming_the_field_and_records_nothing(stack, intake, pool, estate_id,
                                                                                 body, field):
    before = await _estate_events(pool, estate_id)
    response = await intake.put(f"/v1/estates/{estate_id}/fee-schedule", json=body, headers=_admin(stack))
    assert response.status_code == 422, response.text
    assert _names(response, field), _fields(response)
    assert await _estate_events(pool, estate_id) == before


async def test_only_an_estate_s_managers_set_its_fees_and_each_version_is_kept(stack, intake, pool, estate_id):
    staff = token_for(stack, "supervisor", (estate_id,), "eh-supervisor")
    assert (await intake.put(f"/v1/estates/{estate_id}/fee-schedule", json={"items": [_TRAP]},
                             headers=staff)).status_code == 403
    manager = token_for(stack, "estate_manager", (estate_id,), "eh-manager")
    for price in (3500, 3800):
        answer = await intake.put(f"/v1/estates/{estate_id}/fee-schedule",
                                  json={"items": [{**_TRAP, "price_fen": price}]}, headers=manager)
        assert answer.status_code == 200, answer.text
    schedule = (await intake.get(f"/v1/estates/{estate_id}/fee-schedule", headers=staff)).json()
    assert (schedule["version"], schedule["items"][0]["price_fen"], len(schedule["versions"])) == (2, 3800, 2)
    resident = token_for(stack, "resident", (estate_id,), "h-1")
    assert (await intake.get(f"/v1/estates/{estate_id}/fee-schedule", headers=resident)).status_code == 403
    assert (await intake.put("/v1/estates/EH-NONE/fee-schedule", json={"items": [_TRAP]},
                             headers=_admin(stack))).status_code == 422


def _bad_setups() -> list:
    good = _setup()
    building, grid = good["buildings"][0], good["grids"][0]
    return [
        (_setup(timezone="Mars/Olympus_Mons"), "body.timezone"),
        (_setup(timezone="../../etc/passwd"), "body.timezone"),
        (_setup(grids=[{k: v for k, v in grid.items() if k != "id"}]), "body.grids.0.id"),
        (_setup(grids=[{**grid, "buildings": ["99"]}]), "body"),
        (_setup(grids=[grid, grid]), "body.grids"),
        (_setup(buildings=[{**building, "handover_date": "2022-13-45"}]), "body.buildings.0.handover_date"),
        (_setup(buildings=[{**building, "handover_date": 20220630}]), "body.buildings.0.handover_date"),
        (_setup(buildings=[{**building, "handover_date": "0001-01-01"}]), "body.buildings.0.handover_date"),
        (_setup(buildings=[{**building, "units": [{"id": "1", "handover_date": "soon"}]}]),
         "body.buildings.0.units.0.handover_date"),
        (_setup(buildings=[{k: v for k, v in building.items() if k != "id"}]), "body.buildings.0.id"),
        (_setup(buildings=[building, building]), "body.buildings"),
        (_setup(staff={"kitchen": ["cook-li"]}), "body.staff.kitchen"),
        (_setup(staff={"engineering": "eng-sun"}), "body.staff.engineering"),
        (_setup(name="Court\u0000"), "body.name"),
        (_setup(supervisor="e001-supervisor-qian"), "body.supervisor"),
    ]


@pytest.mark.parametrize("setup, field", _bad_setups())
async def test_a_set_up_a_service_could_not_apply_is_refused(stack, intake, pool, estate_id, setup, field):
    before = await _estate_events(pool, estate_id)
    response = await intake.put(f"/v1/estates/{estate_id}", json=setup, headers=_admin(stack))
    assert response.status_code == 422, response.text
    assert _names(response, field), _fields(response)
    assert await _estate_events(pool, estate_id) == before


@pytest.mark.parametrize("policy, field", [
    ({"sla": {"calendar": {"spans": [["08:30"]]}}}, "body.sla.calendar.spans.0"),
    ({"sla": {"calendar": {"spans": [["17:30", "08:30"]]}}}, "body.sla.calendar.spans"),
    ({"sla": {"calendar": {"spans": [["08:00", "08:01"]]}}}, "body.sla.calendar.spans"),
    ({"sla": {"calendar": {"spans": "all day"}}}, "body.sla.calendar.spans"),
    ({"sla": {"rules": {"complaint_completed": {"target_minutes": "720"}}}},
     "body.sla.rules.complaint_completed.target_minutes"),
    ({"sla": {"rules": {"complaint_completed": {"target_minutes": 10**12}}}},
     "body.sla.rules.complaint_completed.target_minutes"),
    ({"sla": {"rules": {"complaint_completed": {"warn_at": 2}}}}, "body.sla.rules.complaint_completed.warn_at"),
    ({"sla": {"rules": {"complaint_completed": {"warn_at": True}}}}, "body.sla.rules.complaint_completed.warn_at"),
    ({"sla": {"rules": {"complaint_completed": {"escalations": [{"to_role": "janitor"}]}}}},
     "body.sla.rules.complaint_completed.escalations.0.to_role"),
    ({"sla": {"rules": {"complaint_completed": {"escalations": ["supervisor"]}}}},
     "body.sla.rules.complaint_completed.escalations.0"),
    ({"sla": {"rules": {"lunch_served": {"target_minutes": 5}}}}, "body.sla.rules.lunch_served"),
    ({"complaints": {"repeat_window_days": "30"}}, "body.complaints.repeat_window_days"),
    ({"complaints": {"repeat_window_days": 0}}, "body.complaints.repeat_window_days"),
    ({"warranty": {"liability_years": {"plumbing": -1}}}, "body.warranty.liability_years.plumbing"),
    ({"warranty": {"liability_years": {"plumbing": "two"}}}, "body.warranty.liability_years.plumbing"),
    ({"warranty": {"liability_years": {"roof garden": 5}}}, "body.warranty.liability_years.roof garden"),
    ({"warranty": {"years": 2}}, "body.warranty.years"),
    ({"dispatch": {"max_bounces": "3"}}, "body.dispatch.max_bounces"),
    ({"dispatch": {"rules": [{"id": "x", "route": [{"department": "engineering", "staff": 1.5}]}]}},
     "body.dispatch.rules.0.route.0.staff"),
    ({"dispatch": {"rules": [{"id": "x", "when": {"hours": {"from": "25:00", "to": "06:00"}},
                              "route": [{"department": "engineering"}]}]}}, "body.dispatch.rules.0.when.hours.from"),
])
async def test_a_policy_a_service_could_not_apply_is_refused(stack, intake, pool, estate_id, policy, field):
    before = await _estate_events(pool, estate_id)
    response = await intake.put(f"/v1/estates/{estate_id}/policy", json=policy, headers=_admin(stack))
    assert response.status_code == 422, response.text
    assert _names(response, field), _fields(response)
    assert await _estate_events(pool, estate_id) == before


async def test_a_buildings_handover_date_decides_the_warranty_of_its_homes(stack, intake, analytics, pool):
    estate_id = f"EW{uuid.uuid4().hex[:6].upper()}"
    setup = _setup(buildings=[{"id": "1", "handover_date": "2010-06-30", "units": [{"id": "1"}]},
                              {"id": "2", "handover_date": "2010-06-30",
                               "units": [{"id": "1", "handover_date": "2026-06-30"}]}])
    assert (await intake.put(f"/v1/estates/{estate_id}", json=setup, headers=_admin(stack))).status_code == 200
    assert (await intake.get(f"/v1/estates/{estate_id}", headers=_admin(stack))).json()["buildings"][0][
        "handover_date"] == "2010-06-30"

    async def warranty(building: str) -> dict:
        body = repair_case(estate=estate_id, location={"building": building, "unit": "1", "room": "0101"},
                           reporter={"household_id": f"H-{building}-1-0101"})
        created = await intake.post("/v1/cases", json=body, headers=_admin(stack))
        assert created.status_code == 201, created.text
        payload = await _count(pool, "SELECT payload FROM events WHERE stream_id = $1 AND event_type ="
                                     " 'WarrantyDetermined'", created.json()["case_id"])
        return json.loads(payload)

    old_building = await warranty("1")  # plumbing: two years from 2010
    assert (old_building["in_warranty"], old_building["handover_date"]) == (False, "2010-06-30")
    recent_unit = await warranty("2")  # the unit's own date wins over its building's
    assert (recent_unit["in_warranty"], recent_unit["handover_date"]) == (True, "2026-06-30")


async def test_an_accepted_policy_is_applied_by_dispatch_and_sla(stack, intake, analytics, estate_id):
    policy = {"dispatch": {"rules": [{"id": "noise-to-security", "when": {"type": "complaint", "keywords": "night"},
                                      "route": [{"department": "security"}], "notify": "estate_manager"}]},
              "sla": {"calendar": {"spans": [["09:00", "12:00"], ["13:00", "18:00"]]},
                      "rules": {"complaint_completed": {"target_minutes": 600, "clock": "business_hours",
                                                        "warn_at": 0.5}}},
              "complaints": {"repeat_window_days": 60}, "warranty": {"liability_years": {"plumbing": 3}}}
    response = await intake.put(f"/v1/estates/{estate_id}/policy", json=policy, headers=_admin(stack))
    assert response.status_code == 200, response.text
    body = _complaint(origin="resident") | {"estate_id": estate_id, "title": "Noise at night",
                                            "location": {"area": "lobby"}}
    created = await intake.post("/v1/cases", json=body, headers=_admin(stack))
    assert created.status_code == 201, created.text

    async def routed_and_timed():
        view = (await analytics.get(f"/v1/cases/{created.json()['case_id']}", headers=_admin(stack))).json()
        return view if view.get("departments") and view.get("deadlines") else None
    view = await eventually(routed_and_timed, what="the estate's own rule and clock applied")
    assert view["departments"] == ["security"]
    assert any(d["rule"] == "complaint_completed" for d in view["deadlines"])
