"""Roles that match the organisation, on the real stack: each refusal is a 4xx and records
nothing. Group access only through group roles; an Idempotency-Key answers only a caller who
may still give the request; residents see and act on their own household's cases; department
staff work their own department's cases; merge, transfer and accept name real targets; who
files on which channel and origin is one table; the inspector is the caller, not a name."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import jwt
import pytest

from estatedesk.auth import now_utc
from tests.conftest import token_for
from tests.support import eventually, repair_case


@pytest.fixture(scope="module")
def people(stack):
    return {
        "desk": token_for(stack, "front_desk", ("E001",), "e001-desk-zhao"),
        "desk2": token_for(stack, "front_desk", ("E002",), "e002-desk-zhao"),
        "engineer": token_for(stack, "department_staff", ("E001",), "e001-eng-sun"),
        "cleaner": token_for(stack, "department_staff", ("E001",), "e001-clean-chen"),
        "head": token_for(stack, "department_head", ("E001",), "e001-eng-zhou"),
        "supervisor": token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian"),
        "group": token_for(stack, "group_service_center", (), "group-center-lin"),
    }


def household() -> str:
    return f"H-{uuid.uuid4().hex[:8]}"


def resident(stack, home: str | None) -> dict:
    return token_for(stack, "resident", ("E001",), f"resident-{home or 'none'}", household=home)


async def version(pool, case_id: str) -> int:
    """How many events the case's own stream holds: what a refused command must leave alone."""
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", case_id)


async def filed(pool, title: str) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'CaseReceived'"
                                   " AND payload->>'title' = $1", title)


async def new_case(intake, headers: dict, **overrides) -> str:
    created = await intake.post("/v1/cases", json=repair_case(**overrides), headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["case_id"]


async def dispatched(analytics, case_id: str, headers: dict) -> dict:
    async def probe():
        r = await analytics.get(f"/v1/cases/{case_id}", headers=headers)
        return r.json() if r.status_code == 200 and r.json()["status"] == "dispatched" else None
    return await eventually(probe, what=f"{case_id} dispatched")


async def command(intake, case_id: str, name: str, headers: dict, **body):
    return await intake.post(f"/v1/cases/{case_id}/{name}", json=body, headers=headers)


async def test_a_star_in_a_token_s_estates_is_no_wildcard(stack, intake, analytics, pool, people):
    case_id = await new_case(intake, people["desk"])
    starred = jwt.encode({"sub": "e002-supervisor", "role": "supervisor", "estates": ["*"],
                          "exp": int((now_utc() + timedelta(hours=1)).timestamp())},
                         stack.settings.estatedesk_secret, algorithm="HS256")
    headers = {"Authorization": f"Bearer {starred}"}
    before = await version(pool, case_id)
    for response in (await analytics.get("/v1/cases", headers=headers),
                     await analytics.get(f"/v1/cases/{case_id}", headers=headers),
                     await analytics.get("/v1/stats/monthly", params={"month": "2026-10"}, headers=headers),
                     await command(intake, case_id, "cancel", headers, reason="mine now")):
        assert response.status_code == 401, response.text
    assert await version(pool, case_id) == before
    estate_staff = token_for(stack, "estate_manager", ("E001", "E002"), "two-estates")
    group_wide = await analytics.get("/v1/stats/monthly", params={"month": "2026-10"}, headers=estate_staff)
    assert group_wide.status_code == 403  # several estates are not the group: name one


async def test_a_replayed_key_answers_only_a_caller_who_may_still_give_the_request(stack, intake, analytics, pool,
                                                                                   people):
    case_id = await new_case(intake, people["desk"])
    await dispatched(analytics, case_id, people["desk"])
    key = str(uuid.uuid4())
    first = await intake.post(f"/v1/cases/{case_id}/accept", json={},
                              headers={**people["supervisor"], "Idempotency-Key": key})
    assert first.status_code == 200, first.text
    before = await version(pool, case_id)
    elsewhere = token_for(stack, "supervisor", ("E002",), "e001-supervisor-qian")  # same user id, other estate
    replay = await intake.post(f"/v1/cases/{case_id}/accept", json={}, headers={**elsewhere, "Idempotency-Key": key})
    assert replay.status_code == 404 and "version" not in replay.json()
    demoted = token_for(stack, "front_desk", ("E001",), "e001-supervisor-qian")  # same user, a role that may not
    replay = await intake.post(f"/v1/cases/{case_id}/accept", json={}, headers={**demoted, "Idempotency-Key": key})
    assert replay.status_code == 403 and "version" not in replay.json()
    again = await intake.post(f"/v1/cases/{case_id}/accept", json={},
                              headers={**people["supervisor"], "Idempotency-Key": key})
    assert again.status_code == 200 and again.json() == first.json()
    assert await version(pool, case_id) == before

    case_key, body = str(uuid.uuid4()), repair_case(title=f"Tap dripping {uuid.uuid4().hex[:6]}")
    created = await intake.post("/v1/cases", json=body, headers={**people["desk"], "Idempotency-Key": case_key})
    assert created.status_code == 201
    other_estate = token_for(stack, "front_desk", ("E002",), "e001-desk-zhao")
    replay = await intake.post("/v1/cases", json=body, headers={**other_estate, "Idempotency-Key": case_key})
    assert replay.status_code == 403 and created.json()["case_id"] not in replay.text
    assert await filed(pool, body["title"]) == 1


async def test_residents_see_and_inspect_only_their_own_household_s_cases(stack, intake, analytics, pool, people):
    home, neighbour = household(), household()
    title = f"Balcony drain blocked {uuid.uuid4().hex[:6]}"
    case_id = await new_case(intake, people["desk"], title=title,
                             reporter={"name": "王女士", "phone": "13812345678", "household_id": home})
    await dispatched(analytics, case_id, people["desk"])
    owner, other, unclaimed = resident(stack, home), resident(stack, neighbour), resident(stack, None)

    async def listed(headers, **params) -> list[str]:
        r = await analytics.get("/v1/cases", params={"estate_id": "E001", "limit": 500, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return [c["case_id"] for c in r.json()["items"]]
    assert await listed(owner) == [case_id]
    assert case_id in await listed(owner, q="Balcony drain")
    for stranger in (other, unclaimed):
        assert await listed(stranger) == [] and await listed(stranger, q="Balcony drain") == []
        assert await listed(stranger, household_id=home) == []
        assert (await analytics.get(f"/v1/cases/{case_id}", headers=stranger)).status_code == 404
    assert (await analytics.get(f"/v1/cases/{case_id}", headers=owner)).status_code == 200
    assert (await analytics.get("/v1/handover", params={"estate_id": "E001"}, headers=owner)).status_code == 403

    for name, body in (("accept", {}), ("start", {}), ("complete", {"result": "drain cleared"})):
        assert (await command(intake, case_id, name, people["engineer"], **body)).status_code == 200
    before = await version(pool, case_id)
    for headers, body, status in ((other, {"passed": True, "inspector_role": "owner"}, 404),
                                  (unclaimed, {"passed": True, "inspector_role": "owner"}, 404),
                                  (owner, {"passed": True, "inspector_role": "property_assistant"}, 422)):
        refused = await command(intake, case_id, "inspect", headers, **body)
        assert refused.status_code == status, refused.text
    assert await version(pool, case_id) == before
    inspected = await command(intake, case_id, "inspect", owner, passed=True, inspector_role="owner")
    assert inspected.status_code == 200 and inspected.json()["status"] == "inspected"


async def test_department_staff_act_only_on_their_department_s_cases(intake, analytics, pool, people):
    case_id = await new_case(intake, people["desk"])
    assert (await dispatched(analytics, case_id, people["desk"]))["departments"] == ["engineering"]
    offered = (await analytics.get(f"/v1/cases/{case_id}", headers=people["cleaner"])).json()["allowed_commands"]
    assert not {"accept", "transfer", "reject", "progress"} & set(offered)
    assert "accept" in (await analytics.get(f"/v1/cases/{case_id}", headers=people["engineer"])).json()[
        "allowed_commands"]
    before = await version(pool, case_id)
    for name, body in (("accept", {}), ("reject", {"reason": "not ours"}), ("progress", {"note": "looked at it"}),
                       ("transfer", {"to_department": "cleaning", "reason": "ours now"})):
        refused = await command(intake, case_id, name, people["cleaner"], **body)
        assert refused.status_code == 403, f"{name}: {refused.text}"
    assert await version(pool, case_id) == before
    accepted = await command(intake, case_id, "accept", people["engineer"])
    assert accepted.status_code == 200 and "start" in accepted.json()["allowed_commands"]
    before = await version(pool, case_id)
    for name, body in (("start", {}), ("pause", {"reason": "other"})):
        assert (await command(intake, case_id, name, people["cleaner"], **body)).status_code == 403
    assert await version(pool, case_id) == before
    assert (await command(intake, case_id, "start", people["head"])).status_code == 200  # heads keep wider rights


async def test_merge_needs_an_open_case_of_the_same_estate(intake, analytics, pool, people):
    case_id = await new_case(intake, people["desk"])
    in_e002 = await new_case(intake, people["desk2"], estate_id="E002")
    cancelled = await new_case(intake, people["desk"])
    assert (await command(intake, cancelled, "cancel", people["desk"], reason="withdrawn")).status_code == 200
    before = await version(pool, case_id)
    for into in (in_e002, "C-0000000000000000", cancelled, case_id):
        refused = await command(intake, case_id, "merge", people["desk"], into_case_id=into)
        assert refused.status_code == 422, f"{into}: {refused.text}"
        assert ["body", "into_case_id"] in [e["loc"] for e in refused.json()["detail"]]
    assert await version(pool, case_id) == before
    twin = await new_case(intake, people["desk"])
    merged = await command(intake, case_id, "merge", people["desk"], into_case_id=twin)
    assert merged.status_code == 200 and merged.json()["status"] == "merged"


async def test_transfer_and_accept_name_real_departments_the_case_was_routed_to(intake, analytics, pool, people):
    case_id = await new_case(intake, people["desk"])
    await dispatched(analytics, case_id, people["desk"])
    before = await version(pool, case_id)
    for name, body, field in (("transfer", {"to_department": "plumbers", "reason": "x"}, "to_department"),
                              ("transfer", {"to_department": "engineering", "reason": "x"}, "to_department"),
                              ("accept", {"department": "greening"}, "department"),
                              ("accept", {"department": "plumbers"}, "department")):
        refused = await command(intake, case_id, name, people["supervisor"], **body)
        assert refused.status_code == 422, f"{name} {body}: {refused.text}"
        assert ["body", field] in [e["loc"] for e in refused.json()["detail"]]
    assert await version(pool, case_id) == before
    moved = await command(intake, case_id, "transfer", people["engineer"], to_department="cleaning", reason="drain")
    assert moved.status_code == 200, moved.text


async def test_who_files_on_which_channel_and_origin(stack, intake, pool, people):
    home = household()
    own = {"name": "李先生", "phone": "13900001111", "household_id": home}
    complaint = {"type": "complaint", "category": "service", "repair": None, "location": {"area": "north gate"}}
    refusals = (
        (people["desk"], {**complaint, "channel": "group_transfer", "complaint": {"origin": "group_center"}}),
        (people["desk"], {**complaint, "channel": "phone", "complaint": {"origin": "quality_office"}}),
        (resident(stack, home), {"channel": "phone", "reporter": own}),
        (resident(stack, home), {"channel": "app", "reporter": {**own, "household_id": household()}}),
        (resident(stack, None), {"channel": "app", "reporter": {**own, "household_id": None}}),
    )
    for headers, overrides in refusals:
        title = f"Refused filing {uuid.uuid4().hex[:8]}"
        refused = await intake.post("/v1/cases", json=repair_case(title=title, **overrides), headers=headers)
        assert refused.status_code == 403, f"{overrides}: {refused.text}"
        assert await filed(pool, title) == 0
    await new_case(intake, resident(stack, home), channel="app", reporter=own)
    await new_case(intake, people["group"], **complaint, channel="group_transfer",
                   complaint={"origin": "quality_office", "group_ref": "QO-2026-7"})


async def test_the_inspector_is_the_caller_and_no_name_is_recorded(intake, analytics, pool, people):
    case_id = await new_case(intake, people["desk"])
    await dispatched(analytics, case_id, people["desk"])
    for name, body in (("accept", {}), ("start", {}), ("complete", {"result": "trap replaced"})):
        assert (await command(intake, case_id, name, people["engineer"], **body)).status_code == 200
    before = await version(pool, case_id)
    named = await command(intake, case_id, "inspect", people["desk"], passed=True, inspector="王女士",
                          inspector_role="owner")
    assert named.status_code == 422
    assert await version(pool, case_id) == before
    done = await command(intake, case_id, "inspect", people["desk"], passed=True, inspector_role="property_assistant")
    assert done.status_code == 200, done.text
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT schema_version, payload FROM events WHERE stream_id = $1"
                                  " AND event_type = 'InspectionRecorded'", case_id)
    payload = json.loads(row["payload"])
    assert row["schema_version"] == 2 and "inspector" not in payload
    assert (payload["actor"], payload["actor_role"], payload["inspector_role"]) == \
        ("e001-desk-zhao", "front_desk", "property_assistant")
    view = (await analytics.get(f"/v1/cases/{case_id}", params={"min_position": done.json()["position"]},
                                headers=people["desk"])).json()
    [entry] = [h for h in view["history"] if h["event_type"] == "InspectionRecorded"]
    assert entry["actor"] == "e001-desk-zhao" and "inspector" not in entry["details"]
