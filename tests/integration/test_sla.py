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


async def test_an_estate_s_own_rules_and_the_emergency_ladder_run_on_the_real_stack(stack, intake, analytics):
    estate_id = f"EOR{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    estate = staffed_estate("Own Rules Garden", estate_id, 2).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", headers=admin, json=estate)).status_code == 200
    own = {"sla": {"custom_rules": [
        {"name": "public_repair_resolved", "case_types": ["repair"], "scope": "public_area",
         "starts_on": ["received"], "met_by": ["completed"], "target_minutes": 24 * 60},
        {"name": "home_repair_resolved", "case_types": ["repair"], "scope": "in_home",
         "starts_on": ["received"], "met_by": ["completed"], "target_minutes": 48 * 60}]}}
    answer = await intake.put(f"/v1/estates/{estate_id}/policy", headers=admin, json=own)
    assert answer.status_code == 200, answer.text
    clash = {"sla": {"custom_rules": [{**own["sla"]["custom_rules"][0], "name": "help_replied"}]}}
    refused = await intake.put(f"/v1/estates/{estate_id}/policy", headers=admin, json=clash)
    assert refused.status_code == 422 and "custom_rules" in refused.text, refused.text

    desk = token_for(stack, "front_desk", (estate_id,), f"{estate_id.lower()}-desk-zhao")
    supervisor = token_for(stack, "supervisor", (estate_id,), f"{estate_id.lower()}-supervisor-qian")
    # a case is judged by the policy in force when it was received: this one, filed now
    public = repair_case(estate_id, title="North gate lamp out", location={"area": "north gate"},
                         repair={"scope": "public_area", "in_warranty": None})
    emergency = repair_case(estate_id, type="help", category="medical", title="Elderly resident fell", repair=None,
                            help={"serious": False}, location={"building": "1", "unit": "1", "room": "0101"},
                            received_at=(stack_now() - timedelta(minutes=30)).isoformat())
    ids = []
    for body in (public, emergency):
        created = await intake.post("/v1/cases", json=body, headers=desk)
        assert created.status_code == 201, created.text
        ids.append(created.json()["case_id"])

    async def view_of(case_id, ready):
        async def probe():
            view = (await analytics.get(f"/v1/cases/{case_id}", headers=supervisor)).json()
            return view if ready(view) else None
        return await eventually(probe, what=f"{case_id} escalated")

    def escalated(rule, levels):
        return lambda v: len([e for e in v.get("escalations", []) if e["rule"] == rule]) >= levels

    def own_deadline(view):
        return [d for d in view.get("deadlines", []) if d["rule"].endswith("_resolved")]
    lamp = await view_of(ids[0], lambda v: own_deadline(v) and v["departments"])
    [deadline] = own_deadline(lamp)
    assert deadline["rule"] == "public_repair_resolved" and not deadline["breached"]
    assert datetime.fromisoformat(deadline["due_at"]) == datetime.fromisoformat(lamp["received_at"]) + timedelta(
        hours=24)
    worker = token_for(stack, "department_head", (estate_id,), f"{estate_id.lower()}-eng-sun")
    for command, body in (("accept", {}), ("start", {}), ("complete", {"result": "lamp replaced"})):
        answer = await intake.post(f"/v1/cases/{ids[0]}/{command}", json=body, headers=worker)
        assert answer.status_code == 200, answer.text
    lamp = await view_of(ids[0], lambda v: own_deadline(v) and own_deadline(v)[0]["met_at"])
    assert not own_deadline(lamp)[0]["breached"]
    fall = await view_of(ids[1], escalated("emergency_accepted", 3))
    assert [(e["level"], e["to_role"]) for e in fall["escalations"] if e["rule"] == "emergency_accepted"] == [
        (1, "supervisor"), (2, "estate_manager"), (3, "general_manager")]
