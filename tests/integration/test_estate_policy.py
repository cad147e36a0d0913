"""Estates change their rules through the policy endpoint; dispatch explains which rule decided."""
from __future__ import annotations

from tests.conftest import token_for
from tests.support import eventually, repair_case

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
