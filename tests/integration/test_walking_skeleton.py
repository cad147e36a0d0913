"""A case travels HTTP → event store → Kafka → dispatch, SLA, analytics → case view."""
from __future__ import annotations

import time

from tests.conftest import token_for
from tests.support import eventually, repair_case


async def _view(analytics, case_id):
    response = await analytics.get(f"/v1/cases/{case_id}")
    return response.json() if response.status_code == 200 else None


async def test_in_home_repair_reaches_engineering_and_its_deadline_is_met(intake, analytics):
    started = time.monotonic()
    response = await intake.post("/v1/cases", json=repair_case())
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    async def dispatched_and_met():
        view = await _view(analytics, case_id)
        if view and view["status"] == "dispatched" and view["deadlines"] and view["deadlines"][0]["met_at"]:
            return view
    view = await eventually(dispatched_and_met, what="dispatched case with met deadline")
    elapsed = time.monotonic() - started

    assert view["departments"] == ["engineering"]
    assert view["estate_id"] == "E001" and view["type"] == "repair"
    [deadline] = view["deadlines"]
    assert deadline["rule"] == "engineering_notified" and deadline["breached"] is False
    assert view["reporter"] == {"household_id": "H-3-2-1502", "phone_masked": "138****5678",
                                "name": "王女士", "phone": "13812345678"}  # the desk of the estate sees it
    assert [h["event_type"] for h in view["history"]].count("CaseReceived") == 1
    print(f"case visible as dispatched with met deadline after {elapsed * 1000:.0f} ms")


async def test_requests_without_a_valid_token_get_401(stack, intake, analytics):
    import httpx

    async with httpx.AsyncClient(timeout=10) as anonymous:
        assert (await anonymous.post(f"{stack.url('intake')}/v1/cases", json=repair_case())).status_code == 401
        assert (await anonymous.get(f"{stack.url('analytics')}/v1/cases/x")).status_code == 401
        forged = {"Authorization": "Bearer not-a-token"}
        assert (await anonymous.get(f"{stack.url('analytics')}/v1/cases", headers=forged)).status_code == 401


async def test_staff_of_another_estate_can_neither_create_nor_see_the_case(stack, intake, analytics):
    other = token_for(stack, estates=("E002",), user="desk-e002")
    refused = await intake.post("/v1/cases", json=repair_case(), headers=other)
    assert refused.status_code == 403

    case_id = (await intake.post("/v1/cases", json=repair_case())).json()["case_id"]
    await eventually(lambda: _view(analytics, case_id), what="case view")
    assert (await analytics.get(f"/v1/cases/{case_id}", headers=other)).status_code == 404
    listed = (await analytics.get("/v1/cases", headers=other)).json()["items"]
    assert case_id not in {item["case_id"] for item in listed}
