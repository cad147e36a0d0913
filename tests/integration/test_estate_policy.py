"""Estates change their rules through the policy endpoint; dispatch explains which rule decided."""
from __future__ import annotations

import uuid
from datetime import datetime

from estatedesk.demo import staffed_estate
from tests.conftest import token_for
from tests.support import eventually, repair_case, stack_now

LIFT_RULE = {"dispatch": {"rules": [{
    "id": "stuck-lift", "when": {"type": "repair", "keywords": ["lift", "电梯"]},
    "route": [{"department": "engineering"}, {"department": "security"}], "priority": "urgent"}]}}


async def _policy_events(pool, estate):
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'EstatePolicySet'", f"estate-{estate}")


async def test_an_estate_rule_overrides_the_default_and_the_decision_names_it(stack, intake, analytics, pool):
    manager = token_for(stack, role="estate_manager", estates=("E002",), user="e002-manager-wei")
    response = await intake.put("/v1/estates/E002/policy", json=LIFT_RULE, headers=manager)
    assert response.status_code == 200, response.text
    version = response.json()["version"]

    desk = token_for(stack, estates=("E002",), user="e002-desk-zhao")
    body = repair_case(estate="E002", title="Passenger lift stuck between floors", category="elevator",
                       location={"area": "building 2 lobby"}, repair={"scope": "public_area"})
    created = (await intake.post("/v1/cases", json=body, headers=desk)).json()

    async def dispatched():
        r = await analytics.get(f"/v1/cases/{created['case_id']}", headers=desk)
        return r.json() if r.status_code == 200 and r.json()["status"] == "dispatched" else None
    view = await eventually(dispatched, what="lift repair dispatched")
    assert view["departments"] == ["engineering", "security"] and view["priority"] == "urgent"
    async with pool.acquire() as conn:
        decision = await conn.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1", f"{created['case_id']}/dispatch")
    assert '"rule": "stuck-lift"' in decision and f'"rule_version": {version}' in decision
    assert '"rule_table": "estate"' in decision


async def test_a_bad_rule_table_is_refused_field_by_field_and_changes_nothing(stack, intake, pool):
    manager = token_for(stack, role="estate_manager", estates=("E001",), user="e001-manager-wei")
    before = await _policy_events(pool, "E001")
    bad = {"dispatch": {"rules": [{"id": "x", "when": {"type": "parcel"}, "route": [{"department": "kitchen"}]}]}}
    response = await intake.put("/v1/estates/E001/policy", json=bad, headers=manager)
    assert response.status_code == 422
    fields = {".".join(map(str, e["loc"])) for e in response.json()["detail"]}
    assert {"body.dispatch.rules.0.when.type.0", "body.dispatch.rules.0.route.0.department"} <= fields
    assert await _policy_events(pool, "E001") == before


async def test_only_managers_change_policy(stack, intake):
    response = await intake.put("/v1/estates/E001/policy", json=LIFT_RULE)
    assert response.status_code == 403


def _as_put(got, put, where: str = "body") -> list[str]:
    """Where the read-back differs from what was put: every value put comes back, and a field
    that was left out comes back only as its empty default."""
    if isinstance(put, dict) and isinstance(got, dict):
        return [p for k in put for p in _as_put(got.get(k), put[k], f"{where}.{k}")] + [
            f"{where}.{k}" for k in got.keys() - put.keys() if got[k] not in (None, [], {})]
    if isinstance(put, list) and isinstance(got, list) and len(put) == len(got):
        return [p for i, (g, v) in enumerate(zip(got, put)) for p in _as_put(g, v, f"{where}.{i}")]
    return [] if got == put else [where]


def _read_back(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in ("estate_id", "version", "configured_at")}


async def test_an_estate_set_up_reads_back_as_it_was_put_and_each_put_is_a_new_version(stack, intake):
    estate_id = f"EP{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    first = staffed_estate("Round Trip Court 往返苑", estate_id, 2).model_dump(mode="json")
    put = await intake.put(f"/v1/estates/{estate_id}", json=first, headers=admin)
    assert put.status_code == 200 and put.json() == {"estate_id": estate_id, "version": 1}, put.text
    got = (await intake.get(f"/v1/estates/{estate_id}", headers=admin)).json()
    assert (got["estate_id"], got["version"]) == (estate_id, 1)
    assert _as_put(_read_back(got), first) == []

    # a policy in between is versioned on its own; it is no version of the set-up
    assert (await intake.put(f"/v1/estates/{estate_id}/policy", json=LIFT_RULE, headers=admin)).status_code == 200
    second = staffed_estate("Round Trip Court 往返苑 (2)", estate_id, 3).model_dump(mode="json")
    put = await intake.put(f"/v1/estates/{estate_id}", json=second, headers=admin)
    assert put.status_code == 200 and put.json() == {"estate_id": estate_id, "version": 2}, put.text
    got = (await intake.get(f"/v1/estates/{estate_id}", headers=admin)).json()
    assert got["version"] == 2 and _as_put(_read_back(got), second) == []
    assert [b["id"] for b in got["buildings"]] == ["1", "2", "3"]
    assert datetime.fromisoformat(got["configured_at"]) <= stack_now()
