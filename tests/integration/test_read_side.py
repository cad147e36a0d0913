"""The read side: read-your-writes, personal data for the estate's staff only, lag reporting."""
from __future__ import annotations

from tests.conftest import token_for
from tests.support import repair_case


async def test_min_position_reads_the_write_just_made(intake, analytics):
    created = (await intake.post("/v1/cases", json=repair_case())).json()
    response = await analytics.get(f"/v1/cases/{created['case_id']}", params={"min_position": created["position"]})
    assert response.status_code == 200
    assert "X-Projection-Stale" not in response.headers
    assert response.json()["case_id"] == created["case_id"]

    listed = await analytics.get("/v1/cases", params={"min_position": created["position"], "estate_id": "E001"})
    assert created["case_id"] in {item["case_id"] for item in listed.json()["items"]}


async def test_staff_of_the_estate_see_the_phone_others_see_it_masked(stack, intake, analytics):
    created = (await intake.post("/v1/cases", json=repair_case())).json()
    url = f"/v1/cases/{created['case_id']}"
    staff = (await analytics.get(url, params={"min_position": created["position"]})).json()
    assert staff["reporter"]["phone"] == "13812345678" and staff["reporter"]["name"] == "王女士"

    group = token_for(stack, role="group_service_center", estates=(), user="group-centre")
    seen_by_group = (await analytics.get(url, headers=group)).json()
    assert "phone" not in seen_by_group["reporter"]
    assert seen_by_group["reporter"]["phone_masked"] == "138****5678"
    listed = (await analytics.get("/v1/cases", params={"estate_id": "E001"})).json()["items"]
    assert all("phone" not in item["reporter"] for item in listed)


async def test_readiness_and_metrics_report_projection_lag(stack, analytics):
    ready = (await analytics.get("/readyz")).json()
    assert ready["checks"]["projection"]["lag_events"] >= 0
    metrics = (await analytics.get("/metrics")).text
    assert 'estatedesk_projection_lag_seconds{projection="analytics.case_views"}' in metrics
    assert "estatedesk_request_seconds_bucket" in metrics
