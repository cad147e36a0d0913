"""The read side: read-your-writes, personal data for the estate's staff only, lag reporting."""
from __future__ import annotations

import uuid

import httpx

from estatedesk.contracts import Envelope
from estatedesk.eventstore import EventStore
from tests.conftest import token_for
from tests.support import eventually, repair_case, stack_now


async def _applied(pool, case_id):
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT position FROM case_positions WHERE consumer = 'analytics.case_views' AND case_id = $1", case_id)


async def _no_lag(analytics):
    lag = (await analytics.get("/readyz")).json()["checks"]["projection"]
    return lag if lag["lag_events"] == 0 else None


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


async def test_readiness_and_metrics_report_projection_lag(stack, analytics, pool):
    """An event analytics has not heard of counts as lag until the sweep applies it; then 0."""
    case_id = f"C-LAG-{uuid.uuid4().hex[:8].upper()}"
    now = stack_now()
    received = Envelope(
        event_id=uuid.uuid4(), event_type="CaseReceived", case_id=case_id, estate_id="E001", stream_version=1,
        occurred_at=now, recorded_at=now, producer="intake", correlation_id=case_id,
        payload={"type": "consultation", "category": "fees", "channel": "phone", "title": "Unheard of",
                 "description": "", "location": {"building": None, "unit": None, "room": None, "area": "desk"},
                 "reporter": {"household_id": None, "phone_masked": None}, "received_at": now.isoformat(),
                 "priority": "normal"})
    async with pool.acquire() as conn, conn.transaction():
        await EventStore(pool).append(case_id, 0, [received], conn=conn)
        await conn.execute("DELETE FROM outbox WHERE key = $1", case_id)  # no message: only the sweep finds it

    async def projection_lag():
        return (await analytics.get("/readyz")).json()["checks"]["projection"]

    async def unapplied():
        return await _applied(pool, case_id) is None

    async def counted_while_unapplied():
        lag = await projection_lag()
        return lag["lag_events"] >= 1 and lag["lag_seconds"] >= 0 and await unapplied() and lag
    await eventually(counted_while_unapplied, timeout=5, interval=0.02, what="the unapplied event counted as lag")
    await eventually(lambda: _applied(pool, case_id), what="the sweep applied it")
    settled = await eventually(lambda: _no_lag(analytics), what="no projection lag")
    assert settled == {"ok": True, "lag_events": 0, "lag_seconds": 0.0}
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



async def test_while_the_broker_delivers_the_sweep_recovers_nothing_and_lag_falls_to_zero(stack, intake, analytics,
                                                                                         pool):
    from prometheus_client.parser import text_string_to_metric_families

    from estatedesk.contracts.topology import notified_event_types
    from tests.broker import CONSUMERS, swept_up

    async def lag_is_zero() -> bool:
        async with httpx.AsyncClient(timeout=10) as client:
            for service in ("dispatch", "sla"):
                text = (await client.get(f"{stack.url(service)}/metrics")).text
                lag = [s.value for f in text_string_to_metric_families(text) for s in f.samples
                       if s.name == "estatedesk_consumer_lag_events"]
                if lag != [0.0]:
                    return False
        return True

    # steady delivery: the backlog earlier tests left behind has drained before these cases
    await eventually(lag_is_zero, timeout=60, interval=0.5, what="dispatch's and SLA's lag gauges at 0 at first")
    created = [(await intake.post("/v1/cases", json=repair_case(title=f"Steady {i}"))).json() for i in range(5)]
    ids = [c["case_id"] for c in created]

    async def swept_past() -> bool:
        """Every consumer's sweep has looked at these cases' last events (the SLA service's clocks
        among them, which dispatch never hears of)."""
        async with pool.acquire() as conn:
            clocks = await conn.fetchval("SELECT count(*) FROM events WHERE case_id = ANY($1)"
                                         " AND event_type = 'SlaMet'", ids)
            swept = {r["consumer"]: r["position"] for r in await conn.fetch("SELECT consumer, position FROM consumer_sweeps")}
            for service, (consumer, _) in CONSUMERS.items():
                last = await conn.fetchval("SELECT max(position) FROM events WHERE case_id = ANY($1)"
                                           " AND event_type = ANY($2)", ids, list(notified_event_types(service)))
                if swept.get(consumer, 0) < last:
                    return False
        return clocks == len(ids)

    await eventually(swept_past, timeout=30, what="the sweeps passed the new cases")
    assert await swept_up(pool, ids) == {}  # each consumer heard of every one from the broker
    await eventually(lag_is_zero, timeout=20, interval=0.5, what="dispatch's and SLA's lag gauges at 0")
