"""Dispatch on the real stack: emergencies, and a restart in the middle of a burst."""
from __future__ import annotations

import asyncio
import json
import signal

from tests.support import eventually, repair_case


async def _view(analytics, case_id, status="dispatched"):
    response = await analytics.get(f"/v1/cases/{case_id}")
    view = response.json() if response.status_code == 200 else None
    return view if view and view["status"] == status else None


async def test_a_medical_emergency_reaches_security_and_customer_service_at_once(intake, analytics):
    body = repair_case(type="help", category="medical", title="Elderly resident collapsed", repair=None,
                       help={"serious": True})
    created = await intake.post("/v1/cases", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["priority"] == "urgent"
    view = await eventually(lambda: _view(analytics, created.json()["case_id"]), what="emergency dispatched")
    assert view["departments"] == ["security", "customer_service"]
    assert view["priority"] == "urgent"
    assert view["coordinator"] == "e001-butler-li"  # building 3 belongs to grid G1


async def _post_many(intake, count: int, concurrency: int = 16) -> list[str]:
    titles = iter(range(count))
    case_ids: list[str] = []

    async def worker():
        for i in titles:
            response = await intake.post("/v1/cases", json=repair_case(title=f"Burst {i}"))
            assert response.status_code == 201, response.text
            case_ids.append(response.json()["case_id"])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return case_ids


async def _decided(pool, case_ids):
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM dispatch_cases WHERE case_id = ANY($1)", case_ids)


async def test_a_dispatch_restart_during_a_burst_yields_exactly_one_decision_per_case(stack, intake, pool):
    burst = asyncio.create_task(_post_many(intake, 1000))
    await eventually(lambda: _at_least(pool, 200), timeout=60, what="dispatch under way")
    stack.stop_service("dispatch", signal.SIGKILL)
    stack.start_service("dispatch")
    case_ids = await burst
    await asyncio.to_thread(stack.wait_ready, "dispatch")

    async def all_projected():
        async with pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT count(*) FROM case_views WHERE case_id = ANY($1) AND status = 'dispatched'", case_ids
            ) == len(case_ids)
    await eventually(all_projected, timeout=120, what="every case of the burst dispatched and projected")

    async with pool.acquire() as conn:
        records = [json.loads(r) for r in await conn.fetchval(
            "SELECT array_agg(record) FROM dispatch_cases WHERE case_id = ANY($1)", case_ids)]
        histories = await conn.fetch("SELECT view->'history' AS h FROM case_views WHERE case_id = ANY($1)", case_ids)
        counts = json.loads(await conn.fetchval("SELECT open_cases FROM dispatch_estates WHERE estate_id = 'E001'"))
        holders = [h for r in [json.loads(x) for x in await conn.fetchval(
            "SELECT array_agg(record) FROM dispatch_cases WHERE estate_id = 'E001'")] for h in r["holders"]]
    assert len(records) == 1000 and all(len(r["decisions"]) == 1 for r in records)
    for row in histories:
        assert [e["event_type"] for e in json.loads(row["h"])].count("CaseDispatched") == 1
    # open-case counts neither lost nor double-counted across the restart
    assert sum(counts.values()) == len(holders)


async def _at_least(pool, n):
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM dispatch_cases WHERE record->'facts'->>'title' LIKE 'Burst %'") >= n
