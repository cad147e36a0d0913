"""The read side: read-your-writes, personal data for the estate's staff only, lag reporting."""
from __future__ import annotations

from tests.conftest import token_for
from tests.support import eventually, repair_case


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


async def test_erasing_a_household_removes_name_and_phone_but_keeps_the_case(stack, intake, analytics, pool):
    household = "H-ERASE-1"
    created = (await intake.post("/v1/cases", json=repair_case(
        reporter={"name": "赵先生", "phone": "13700001234", "household_id": household}))).json()
    manager = token_for(stack, role="estate_manager", estates=("E001",), user="e001-manager-wei")
    erased = await intake.post(f"/v1/estates/E001/households/{household}/erase-personal-data", headers=manager)
    assert erased.status_code == 200 and erased.json()["cases_erased"] == 1
    view = (await analytics.get(f"/v1/cases/{created['case_id']}", params={"min_position": created["position"]})).json()
    assert "name" not in view["reporter"] and "phone" not in view["reporter"]
    assert view["case_id"] == created["case_id"] and view["history"]
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM events WHERE payload::text LIKE '%13700001234%'")
    assert stored == 0  # the full number never entered the event store


async def test_every_consumer_reports_its_lag(stack):
    import httpx

    async with httpx.AsyncClient(timeout=10) as client:
        for service, consumer in (("dispatch", "dispatch"), ("sla", "sla")):
            async def exported():
                text = (await client.get(f"{stack.url(service)}/metrics")).text
                return f'estatedesk_consumer_lag_events{{consumer="{consumer}"}}' in text
            await eventually(exported, what=f"{service} consumer lag metric")
