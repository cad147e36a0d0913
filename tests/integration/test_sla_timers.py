"""Timers proven from the store: an estate's policy makes clocks that are stored first, come
due later and are fired by the SLA ticker — not breached on arrival as back-dated cases are.

On the broker stack the SLA service's clock runs SLA_LEAD_S ahead of intake's, so a
one-minute target on a case received now comes due there some seconds after the clock is
stored. Its store sweep waits an hour, so nothing here is caught up from the store."""
from __future__ import annotations

import asyncio
import json
import signal
import uuid
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio

from estatedesk.demo import staffed_estate
from estatedesk.streams import feedback_stream
from tests.conftest import SLA_LEAD_S, token_for
from tests.support import eventually, repair_case, stack_now

SHANGHAI = ZoneInfo("Asia/Shanghai")
TARGET = timedelta(minutes=1)
POLICY = {"sla": {"rules": {"complaint_completed": {
    "target_minutes": 1, "warn_at": 0.95,
    "escalations": [{"to_role": "supervisor", "reason": "complaint file card opened (投诉处理档案卡)"}]}}}}


async def _new_estate(stack, name: str, timezone_name: str = "Asia/Shanghai", policy: dict | None = None) -> str:
    estate_id = f"ET{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    setup = {**staffed_estate(name, estate_id, 2).model_dump(mode="json"), "timezone": timezone_name}
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=admin, timeout=20) as intake:
        assert (await intake.put(f"/v1/estates/{estate_id}", json=setup)).status_code == 200
        if policy:
            answer = await intake.put(f"/v1/estates/{estate_id}/policy", json=policy)
            assert answer.status_code == 200, answer.text
    return estate_id


@pytest_asyncio.fixture(scope="module")
async def estate(broker_stack) -> str:
    """An estate whose complaints must be completed within one minute."""
    return await _new_estate(broker_stack, "One Minute Court", policy=POLICY)


async def _complaints(stack, estate_id: str, count: int) -> list[str]:
    desk = token_for(stack, "front_desk", (estate_id,), f"{estate_id.lower()}-desk-zhao")
    case_ids = []
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=desk, timeout=20) as intake:
        for i in range(count):
            # one household each: a second complaint of a household would be a repeat, escalated at once
            body = repair_case(estate_id, type="complaint", category="service", title=f"Nobody answers the desk {i}",
                               repair=None, complaint={"origin": "resident"}, location={"area": "lobby"},
                               reporter={"name": "李先生", "phone": "13900001111",
                                         "household_id": f"H-{uuid.uuid4().hex[:10]}"})
            response = await intake.post("/v1/cases", json=body)
            assert response.status_code == 201, response.text
            case_ids.append(response.json()["case_id"])
    return case_ids


async def _sla_events(pool, case_ids) -> dict[str, list[dict]]:
    """Each case's SLA events in store order, with the SLA service's recording time."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT case_id, event_type, payload, recorded_at FROM events"
                                " WHERE stream_id = ANY($1) ORDER BY position", [f"{c}/sla" for c in case_ids])
    events: dict[str, list[dict]] = {c: [] for c in case_ids}
    for r in rows:
        events[r["case_id"]].append({"type": r["event_type"], "recorded_at": r["recorded_at"],
                                     **json.loads(r["payload"])})
    return events


async def _count(pool, case_ids, event_type: str) -> int:
    return sum(e["type"] == event_type for es in (await _sla_events(pool, case_ids)).values() for e in es)


async def _all_escalated(pool, case_ids):
    return await _count(pool, case_ids, "EscalationRaised") >= len(case_ids)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_clock_from_the_estate_policy_is_stored_then_comes_due_and_the_ticker_fires_it(
        broker_stack, broker_pool, estate):
    [case_id] = await _complaints(broker_stack, estate, 1)

    await eventually(lambda: _all_escalated(broker_pool, [case_id]), timeout=60 - SLA_LEAD_S + 20,
                     what="the complaint clock breached and escalated")
    events = (await _sla_events(broker_pool, [case_id]))[case_id]
    assert [e["type"] for e in events] == ["SlaClockStarted", "SlaWarning", "SlaBreached", "EscalationRaised"]
    started, warning, breach, escalation = events
    assert started["rule"] == "complaint_completed" and _at(started["due_at"]) - _at(started["started_at"]) == TARGET
    # stored before anything was due; each later action recorded once its own time had come
    assert started["recorded_at"] < _at(warning["warned_at"]) <= warning["recorded_at"]
    assert warning["recorded_at"] < _at(breach["breached_at"]) <= breach["recorded_at"]
    assert _at(breach["breached_at"]) == _at(started["due_at"])
    assert (escalation["level"], escalation["to_role"], escalation["obligation_id"]) == (
        1, "supervisor", started["obligation_id"])

    supervisor = token_for(broker_stack, "supervisor", (estate,), f"{estate.lower()}-supervisor-qian")
    async with httpx.AsyncClient(base_url=broker_stack.url("analytics"), headers=supervisor, timeout=20) as analytics:
        async def projected():
            view = (await analytics.get(f"/v1/cases/{case_id}")).json()
            return view if view.get("escalations") else None
        view = await eventually(projected, what="the breach projected")
    assert [(d["rule"], d["breached"]) for d in view["deadlines"]] == [("complaint_completed", True)]
    assert [(e["level"], e["to_role"]) for e in view["escalations"]] == [(1, "supervisor")]


async def test_killing_the_sla_service_amid_a_batch_of_due_timers_fires_each_exactly_once(
        broker_stack, broker_pool, estate):
    case_ids = await _complaints(broker_stack, estate, 40)

    async def firing():
        return await _count(broker_pool, case_ids, "SlaBreached") >= 5
    await eventually(firing, timeout=60 - SLA_LEAD_S + 20, what="the ticker firing the batch")
    broker_stack.stop_service("sla", signal.SIGKILL)
    fired_before_the_kill = await _count(broker_pool, case_ids, "SlaBreached")
    assert fired_before_the_kill < len(case_ids), "the batch was over before the kill; nothing was proven"
    broker_stack.start_service("sla")
    await eventually(lambda: _all_escalated(broker_pool, case_ids), timeout=60, what="every timer fired")
    await asyncio.to_thread(broker_stack.wait_ready, "sla")

    for case_id, events in (await _sla_events(broker_pool, case_ids)).items():
        kinds = [e["type"] for e in events]
        assert kinds.count("SlaClockStarted") == 1 and kinds.count("SlaBreached") == 1, (case_id, kinds)
        assert kinds.count("EscalationRaised") == 1 and kinds.count("SlaWarning") <= 1, (case_id, kinds)
        started, breach, escalation = (next(e for e in events if e["type"] == kind)
                                       for kind in ("SlaClockStarted", "SlaBreached", "EscalationRaised"))
        assert started["recorded_at"] < _at(started["due_at"]) <= breach["recorded_at"], case_id
        assert breach["obligation_id"] == escalation["obligation_id"] == started["obligation_id"]


def _sunday_before_yesterday_or_earlier() -> datetime:
    """17:00 in Shanghai on a Sunday at least two days back: the SLA service running on
    today's clock never settles that day, in Shanghai or in London."""
    day = stack_now().astimezone(SHANGHAI).date() - timedelta(days=2)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return datetime.combine(day, time(17, 0), SHANGHAI)


async def _missed(pool, estate_id: str, day: str) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT payload, recorded_at FROM events WHERE stream_id = $1"
                                " AND event_type = 'DailyFeedbackMissed' AND payload->>'day' = $2",
                                feedback_stream(estate_id), day)
    return sorted(({**json.loads(r["payload"]), "recorded_at": r["recorded_at"]} for r in rows),
                  key=lambda flag: flag["department"])


async def _feedback_of(stack, estate_id: str, day: str, role: str = "supervisor") -> dict:
    reader = token_for(stack, role, (estate_id,), f"{estate_id.lower()}-{role}")
    async with httpx.AsyncClient(base_url=stack.url("intake"), headers=reader, timeout=20) as intake:
        answer = await intake.get(f"/v1/estates/{estate_id}/daily-feedback", params={"day": day})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_department_that_misses_17_00_on_a_sunday_is_escalated_to_the_supervisor_then_the_manager(
        broker_stack, broker_pool):
    shanghai = await _new_estate(broker_stack, "Feedback Court")
    london = await _new_estate(broker_stack, "Feedback Mews", "Europe/London")  # 09:00 or 10:00 there
    weekdays = await _new_estate(broker_stack, "Weekday Gardens", policy={"feedback": {"working_days_only": True}})
    impatient = await _new_estate(broker_stack, "Prompt Towers", policy={"feedback": {"manager_after_minutes": 0}})
    due = _sunday_before_yesterday_or_earlier()
    day = due.date().isoformat()
    for estate_id in (shanghai, london, impatient):
        head = token_for(broker_stack, "department_head", (estate_id,), f"{estate_id.lower()}-eng-zhou")
        async with httpx.AsyncClient(base_url=broker_stack.url("intake"), headers=head, timeout=20) as intake:
            reported = await intake.post(f"/v1/estates/{estate_id}/daily-feedback",
                                         json={"department": "engineering", "day": day, "summary": "6 done, 1 open"})
            assert reported.status_code == 201, reported.text

    running_ahead = broker_stack.service_overrides["sla"]
    broker_stack.stop_service("sla")
    broker_stack.service_overrides["sla"] = {
        "estatedesk_clock_offset_s": (due - datetime.now(timezone.utc)).total_seconds()}
    try:
        broker_stack.start_service("sla")  # it starts at 17:00 on that Sunday, Shanghai time

        async def flagged():
            return (await _missed(broker_pool, shanghai, day) and await _missed(broker_pool, impatient, day)) or None
        await eventually(flagged, timeout=40, what="the daily check run by the SLA service")
        flags = await _missed(broker_pool, shanghai, day)
        assert [f["department"] for f in flags] == ["cleaning", "customer_service", "greening", "security"]
        assert all(due <= f["recorded_at"] < due + timedelta(minutes=5) for f in flags)  # on the service's clock
        assert {_at(f["due_at"]) for f in flags} == {due}
        assert await _missed(broker_pool, london, day) == []  # checked in the same pass, before its 17:00
        assert await _missed(broker_pool, weekdays, day) == []  # its policy owes feedback on working days only
    finally:
        broker_stack.stop_service("sla")
        broker_stack.service_overrides["sla"] = running_ahead
        broker_stack.start_service("sla")
        await asyncio.to_thread(broker_stack.wait_ready, "sla")

    read = await _feedback_of(broker_stack, shanghai, day)
    assert (read["owed"], read["reported"], read["missed"]) == (
        True, ["engineering"], ["cleaning", "customer_service", "greening", "security"])
    rows = {row["department"]: row for row in read["departments"]}
    assert rows["engineering"]["report"]["summary"] == "6 done, 1 open"
    assert [(e["level"], e["to_role"]) for e in rows["security"]["escalations"]] == [(1, "supervisor")]
    # the estate manager is told two hours later; that clock had not come round on the service's
    prompt = {row["department"]: row for row in (await _feedback_of(broker_stack, impatient, day))["departments"]}
    assert [(e["level"], e["to_role"]) for e in prompt["cleaning"]["escalations"]] == [
        (1, "supervisor"), (2, "estate_manager")]
    assert prompt["engineering"]["escalations"] == []
    weekday = await _feedback_of(broker_stack, weekdays, day, role="department_head")
    assert (weekday["owed"], weekday["missed"]) == (False, [])
    assert {row["status"] for row in weekday["departments"]} == {"not_owed"}
