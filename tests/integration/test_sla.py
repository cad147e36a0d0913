"""SLA on the real stack: real deadlines reached by back-dating, restarts, daily feedback."""
from __future__ import annotations

import asyncio
import json
import signal
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from estatedesk.demo import staffed_estate
from services.sla.domain.working_time import is_working_day
from services.sla.feedback import flag_missing_feedback
from tests.conftest import token_for
from tests.support import eventually, repair_case, stack_now


SHANGHAI = ZoneInfo("Asia/Shanghai")


def complaint(hours_ago: float, title: str = "Lift broken for days") -> dict:
    received = stack_now() - timedelta(hours=hours_ago)
    return repair_case(type="complaint", category="service", title=title, repair=None,
                       complaint={"origin": "resident"}, location={"area": "lobby"}, received_at=received.isoformat())


async def _escalations(pool, case_ids, rule="complaint_completed", level=1):
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT case_id, event_id FROM events WHERE event_type = 'EscalationRaised' AND case_id = ANY($1)"
            " AND payload->>'rule' = $2 AND (payload->>'level')::int = $3", list(case_ids), rule, level)
    return rows


async def test_a_complaint_back_dated_25_hours_escalates_exactly_once(intake, analytics, pool):
    created = (await intake.post("/v1/cases", json=complaint(25))).json()

    async def escalated():
        view = (await analytics.get(f"/v1/cases/{created['case_id']}")).json()
        return view if view.get("escalations") else None
    view = await eventually(escalated, what="complaint file card escalation")
    assert [(e["level"], e["to_role"]) for e in view["escalations"]] == [(1, "supervisor")]
    assert "投诉处理档案卡" in view["escalations"][0]["reason"]
    assert [d["breached"] for d in view["deadlines"] if d["rule"] == "complaint_completed"] == [True]
    # a further ticker pass and a redelivery of every message later, still one
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM case_positions WHERE consumer = 'sla' AND case_id = $1", created["case_id"])
    marker = (await intake.post("/v1/cases", json=repair_case())).json()
    await eventually(lambda: _sla_saw(pool, marker["case_id"]), what="sla worked past the replay")
    await eventually(lambda: _sla_saw(pool, created["case_id"]), what="sla re-read the case")
    assert len(await _escalations(pool, [created["case_id"]])) == 1


async def _sla_saw(pool, case_id):
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT 1 FROM case_positions WHERE consumer = 'sla' AND case_id = $1", case_id)


async def test_a_serious_emergency_tells_the_estate_manager_at_once(intake, analytics):
    body = repair_case(type="help", category="disaster", title="Basement flooding", repair=None,
                       help={"serious": True}, location={"area": "car park B2"})
    created = (await intake.post("/v1/cases", json=body)).json()

    async def told_and_routed():
        # SLA and dispatch act on the case independently; the view holds both once each has
        view = (await analytics.get(f"/v1/cases/{created['case_id']}")).json()
        return view if view.get("escalations") and view.get("departments") else None
    view = await eventually(told_and_routed, what="estate manager told and the case routed")
    assert (1, "estate_manager") in [(e["level"], e["to_role"]) for e in view["escalations"]]
    assert view["departments"] == ["security", "engineering"]


async def test_killing_the_sla_worker_amid_a_burst_of_due_timers_loses_and_repeats_nothing(stack, intake, pool):
    stack.stop_service("sla", signal.SIGKILL)
    case_ids = []
    for i in range(150):
        response = await intake.post("/v1/cases", json=complaint(24.5, f"Burst complaint {i}"))
        assert response.status_code == 201, response.text
        case_ids.append(response.json()["case_id"])
    stack.start_service("sla")
    await eventually(lambda: _at_least(pool, case_ids, 10), timeout=60, what="escalations under way")
    stack.stop_service("sla", signal.SIGKILL)  # in the middle of the burst
    stack.start_service("sla")
    await asyncio.to_thread(stack.wait_ready, "sla")
    await eventually(lambda: _at_least(pool, case_ids, len(case_ids)), timeout=120, what="every escalation")
    rows = await _escalations(pool, case_ids)
    assert sorted(r["case_id"] for r in rows) == sorted(case_ids)  # none missing, none twice


async def _at_least(pool, case_ids, n):
    return len(await _escalations(pool, case_ids)) >= n


def _working_day_long_ago() -> date:
    """A working day a year before the stack's today: no live ticker settles it by itself,
    whatever time of day the suite runs at (the ticker only settles each estate's today)."""
    day = stack_now().astimezone(SHANGHAI).date() - timedelta(days=365)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


async def test_departments_that_miss_the_1700_feedback_are_flagged_once(stack, intake, pool):
    estate_id = f"EFB{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    estate = {**staffed_estate("Feedback Court", estate_id, 2).model_dump(mode="json")}
    assert (await intake.put(f"/v1/estates/{estate_id}", headers=admin, json=estate)).status_code == 200
    day = _working_day_long_ago()
    head = token_for(stack, "department_head", (estate_id,), "eng-head")
    reported = await intake.post(f"/v1/estates/{estate_id}/daily-feedback", headers=head,
                                 json={"department": "engineering", "day": day.isoformat(), "summary": "8 done, 1 open"})
    assert reported.status_code == 201, reported.text
    due = datetime.combine(day, time(17, 0), SHANGHAI)
    assert await _missed(pool, estate_id, day) == []
    await flag_missing_feedback(pool, due - timedelta(minutes=5))
    assert await _missed(pool, estate_id, day) == []
    await flag_missing_feedback(pool, due + timedelta(minutes=5))
    assert await _missed(pool, estate_id, day) == ["cleaning", "customer_service", "greening", "security"]
    await flag_missing_feedback(pool, due + timedelta(minutes=6))
    assert await _missed(pool, estate_id, day) == ["cleaning", "customer_service", "greening", "security"]


async def _missed(pool, estate_id: str, day: date) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM events WHERE stream_id = $1 AND payload->>'day' = $2",
                                f"estate-{estate_id}/feedback", day.isoformat())
    return sorted(json.loads(r["payload"])["department"] for r in rows)
