"""One truth for a case on the real stack: both sides agree, a breach is never lost, the view
carries what people wrote, queues filter, set-up reads back, older databases still project."""
from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from estatedesk.contracts import Envelope, derived_event_id
from estatedesk.demo import staffed_estate
from estatedesk.eventstore import EventStore, record
from tests.conftest import token_for
from tests.support import StoryCase, eventually, repair_case, stack_now


@pytest.fixture(scope="module")
async def estate(stack, intake):
    """An estate of this module's own, so its month's figures hold only these tests' cases."""
    estate_id = f"T{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    body = staffed_estate("One Truth Gardens 一真苑", estate_id, 4).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", json=body, headers=admin)).status_code == 200
    low = estate_id.lower()
    return {"id": estate_id, "desk": token_for(stack, "front_desk", (estate_id,), f"{low}-desk-zhao"),
            "supervisor": token_for(stack, "supervisor", (estate_id,), f"{low}-supervisor-qian"),
            "staff": token_for(stack, "department_staff", (estate_id,), f"{low}-eng-sun"),
            "group": token_for(stack, "group_admin", (), "group-analyst")}


async def _new(intake, analytics, estate, body) -> StoryCase:
    return await StoryCase.file(intake, analytics, estate, body, view_timeout=20)


def _complaint(estate_id: str, hours_ago: float, **extra) -> dict:
    return repair_case(estate=estate_id, type="complaint", category="service", title="电梯坏了三天 lift broken",
                       description="2号楼电梯停在8楼，老人上不了楼", repair=None, complaint={"origin": "resident"},
                       location={"building": "1", "unit": "1", "room": "0101"},
                       received_at=(stack_now() - timedelta(hours=hours_ago)).isoformat(), **extra)


async def test_accept_pause_for_parts_resume_gives_the_same_state_on_both_sides(intake, analytics, estate):
    case = await _new(intake, analytics, estate, repair_case(estate=estate["id"]))
    await case.view_when(lambda v: v["status"] == "dispatched", "dispatched", "staff")
    for command, body in (("accept", {}), ("pause", {"reason": "waiting_on_parts"}), ("resume", {})):
        answer = await case.do(command, "staff", **body)
    view = await case.view("staff", answer["position"])
    assert answer["status"] == view["status"] == "accepted"
    assert answer["allowed_commands"] == view["allowed_commands"]
    assert "start" in view["allowed_commands"] and "complete" not in view["allowed_commands"]


async def test_a_breach_survives_pause_resume_and_reopening_in_the_view_the_list_and_the_month(
        intake, analytics, estate):
    case = await _new(intake, analytics, estate, _complaint(estate["id"], 25))
    breached = lambda v: any(d["rule"] == "complaint_completed" and d["breached"] for d in v["deadlines"])
    await case.view_when(lambda v: breached(v) and v["status"] == "dispatched", "complaint breached")
    await case.do("accept", "supervisor")
    await case.do("pause", "supervisor", reason="waiting_on_resident", note="resident away until evening")
    await case.view_when(lambda v: any(d["paused"] for d in v["deadlines"]), "the clock paused")
    await case.do("resume", "supervisor")
    await case.do("start", "supervisor")
    await case.do("complete", "supervisor", result="lift motor replaced")
    await case.do("inspect", "desk", passed=True, inspector_role="property_assistant")
    await case.do("review", "supervisor", notes="checked the maintenance log")
    reopened = await case.do("return-visit", "desk", method="phone", satisfaction="dissatisfied",
                             comments="still noisy")
    assert reopened["status"] == "in_progress"
    view = await case.view_when(
        lambda v: len([d for d in v["deadlines"] if d["rule"] == "complaint_completed"]) == 2, "the new instance")
    first, second = [d for d in view["deadlines"] if d["rule"] == "complaint_completed"]
    assert first["breached"] and first["breached_at"] and first["paused"][0]["to"] is not None
    assert not second["breached"]
    listed = await analytics.get("/v1/cases", params={"estate_id": estate["id"], "breached": "true"},
                                 headers=estate["desk"])
    assert case.case_id in [c["case_id"] for c in listed.json()["items"]]
    month = _month_of(view["received_at"])
    stats = (await analytics.get("/v1/stats/monthly", params={"estate_id": estate["id"], "month": month},
                                 headers=estate["group"])).json()
    month_views = await _month_views(analytics, estate, month)
    assert case.case_id in [v["case_id"] for v in month_views]
    assert stats["breaches"] == sum(sum(d["breached"] for d in v["deadlines"]) for v in month_views)
    assert stats["sla_compliance"]["complaint_completed"]["breached"] == sum(
        d["breached"] for v in month_views for d in v["deadlines"] if d["rule"] == "complaint_completed")


def _month_of(received_at: str) -> str:
    return datetime.fromisoformat(received_at).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


async def _month_views(analytics, estate, month) -> list[dict]:
    items = (await analytics.get("/v1/cases", params={"estate_id": estate["id"], "limit": 500},
                                 headers=estate["group"])).json()["items"]
    return [v for v in items if _month_of(v["received_at"]) == month]


async def test_a_complaint_walked_to_the_archive_shows_every_note_and_who_wrote_it(intake, analytics, estate):
    case = await _new(intake, analytics, estate, _complaint(estate["id"], 1))
    await case.view_when(lambda v: v["status"] == "dispatched", "dispatched")
    steps = [
        ("accept", "supervisor", {}),
        ("progress", "supervisor", {"note": "维修公司已联系 contractor called"}),
        ("pause", "supervisor", {"reason": "waiting_on_parts", "note": "motor on order"}),
        ("resume", "supervisor", {}),
        ("start", "supervisor", {}),
        ("complete", "supervisor", {"result": "motor replaced, lift tested"}),
        ("inspect", "desk", {"passed": True, "inspector_role": "owner", "notes": "runs fine"}),
        ("review", "supervisor", {"notes": "log signed"}),
        ("return-visit", "desk", {"method": "door", "satisfaction": "satisfied", "comments": "谢谢 quick work"}),
        ("archive", "desk", {}),
    ]
    for command, who, body in steps:
        answer = await case.do(command, who, **body)
    view = await case.view("supervisor", answer["position"])
    assert view["status"] == "archived" and view["description"] == "2号楼电梯停在8楼，老人上不了楼"
    low = estate["id"].lower()
    written = {(h["event_type"], h["actor"]): h["details"] for h in view["history"] if h["actor"]}
    assert ("CaseReceived", f"{low}-desk-zhao") in written
    expected = {
        ("ProgressNoted", f"{low}-supervisor-qian"): ("note", "维修公司已联系 contractor called"),
        ("WorkPaused", f"{low}-supervisor-qian"): ("note", "motor on order"),
        ("WorkCompleted", f"{low}-supervisor-qian"): ("result", "motor replaced, lift tested"),
        ("InspectionRecorded", f"{low}-desk-zhao"): ("notes", "runs fine"),
        ("SupervisorReviewed", f"{low}-supervisor-qian"): ("notes", "log signed"),
        ("ReturnVisitRecorded", f"{low}-desk-zhao"): ("comments", "谢谢 quick work"),
    }
    for key, (field, text) in expected.items():
        assert written[key][field] == text, key
    roles = {h["actor_role"] for h in view["history"] if h["actor"]}
    assert roles == {"front_desk", "supervisor"}
    assert view["return_visits"][0]["comments"] == "谢谢 quick work"


async def test_queues_filter_by_household_text_holder_and_due_time(intake, analytics, estate):
    household = f"H-{uuid.uuid4().hex[:6]}"
    case = await _new(intake, analytics, estate, repair_case(
        estate=estate["id"], title="卫生间漏水", description="楼上渗水到天花板",
        reporter={"name": "陈女士", "phone": "13800002222", "household_id": household}))
    view = await case.view_when(lambda v: v["status"] == "dispatched" and v["deadlines"], "dispatched")

    async def listed(who="desk", **params) -> list[str]:
        r = await analytics.get("/v1/cases", params={"estate_id": estate["id"], **params}, headers=estate[who])
        assert r.status_code == 200, r.text
        return [c["case_id"] for c in r.json()["items"]]
    assert await listed(household_id=household) == [case.case_id]
    assert case.case_id in await listed(status="dispatched", type="repair", department="engineering")
    for other in ({"status": "accepted"}, {"type": "complaint"}, {"department": "cleaning"}):
        assert case.case_id not in await listed(**other), other
    assert case.case_id in await listed(q="漏水") and case.case_id in await listed(q="天花板")
    assert case.case_id not in await listed(q="漏电")
    assert case.case_id in await listed("staff", mine="true")  # routed to engineering, where eng-sun works
    assert case.case_id not in await listed("desk", mine="true", type="repair")
    assert view["assignee"], view  # a staffed estate: dispatch names an engineer
    assert case.case_id in await listed(assignee=view["assignee"])
    assert case.case_id not in await listed(assignee=f"{view['assignee']}-someone-else")
    assert case.case_id in await listed(coordinator=view["coordinator"])
    # a household of its own: a repeat complaint would owe the general manager's mailbox an earlier deadline
    complaint = await _new(intake, analytics, estate, _complaint(estate["id"], 2, reporter={
        "name": "赵先生", "phone": "13800003333", "household_id": f"H-{uuid.uuid4().hex[:6]}"}))
    view = await complaint.view_when(lambda v: v["deadlines"], "the complaint clock")
    [owed] = [d["due_at"] for d in view["deadlines"] if d["rule"] == "complaint_completed"]
    due = datetime.fromisoformat(owed)
    assert complaint.case_id in await listed(due_before=(due + timedelta(minutes=1)).isoformat())
    assert complaint.case_id not in await listed(due_before=(due - timedelta(minutes=1)).isoformat())


async def test_an_estate_and_its_policy_read_back_and_a_partial_put_keeps_the_other_blocks(stack, intake, estate):
    manager = token_for(stack, "estate_manager", (estate["id"],), f"{estate['id'].lower()}-manager-wei")
    got = await intake.get(f"/v1/estates/{estate['id']}", headers=manager)
    assert got.status_code == 200 and got.json()["name"] == "One Truth Gardens 一真苑"
    assert [b["id"] for b in got.json()["buildings"]] == ["1", "2", "3", "4"]
    rules = {"dispatch": {"rules": [{"id": "lift", "when": {"type": "repair", "keywords": ["电梯"]},
                                     "route": [{"department": "engineering"}], "priority": "urgent"}]}}
    assert (await intake.put(f"/v1/estates/{estate['id']}/policy", json=rules, headers=manager)).status_code == 200
    sla_only = {"sla": {"rules": {"complaint_completed": {"target_minutes": 720}}}}
    put = await intake.put(f"/v1/estates/{estate['id']}/policy", json=sla_only, headers=manager)
    assert put.status_code == 200, put.text
    policy = (await intake.get(f"/v1/estates/{estate['id']}/policy", headers=manager)).json()
    assert policy["version"] == 2 and policy["set_by"] == f"{estate['id'].lower()}-manager-wei"
    assert policy["policy"]["dispatch"]["rules"][0]["id"] == "lift"  # not wiped by the SLA-only PUT
    assert policy["policy"]["sla"] == sla_only["sla"]
    assert [(v["version"], v["blocks"]) for v in policy["versions"]] == [(1, ["dispatch"]), (2, ["dispatch", "sla"])]
    resident = token_for(stack, "resident", (estate["id"],), "resident-1")
    assert (await intake.get(f"/v1/estates/{estate['id']}", headers=resident)).status_code == 403
    assert (await intake.get("/v1/estates/NOPE/policy", headers=estate["group"])).status_code == 404


async def test_an_older_database_holding_routing_echoes_projects_the_same_views(stack, intake, analytics, pool,
                                                                               estate):
    """Before dispatch's decision was read from its own stream, intake echoed each one into
    the case stream as CaseRouted. Stored that way, a case still projects as it does today,
    takes commands at the right version, and a view written before the upgrade is refolded."""
    legacy, current = f"C-OLD-{uuid.uuid4().hex[:8].upper()}", f"C-NEW-{uuid.uuid4().hex[:8].upper()}"
    now = stack_now()
    for case_id, echo in ((legacy, True), (current, False)):
        await _store_as_written(pool, estate["id"], case_id, echo, now)
    desk = estate["desk"]

    async def projected(case_id):
        r = await analytics.get(f"/v1/cases/{case_id}", headers=desk)
        return r.json() if r.status_code == 200 and r.json()["status"] == "dispatched" else None
    old_view = await eventually(lambda: projected(legacy), what="legacy case projected")
    new_view = await eventually(lambda: projected(current), what="current case projected")
    strip = lambda v: {k: v[k] for k in v if k != "case_id"} | {
        "history": [{k: h[k] for k in h if k != "details"} for h in v["history"]]}
    assert strip(old_view) == strip(new_view), [k for k in old_view if old_view[k] != new_view.get(k)]
    assert "CaseRouted" not in [h["event_type"] for h in old_view["history"]]
    async with pool.acquire() as conn:  # a view as an older analytics wrote it, without the fold's state
        await conn.execute("UPDATE case_views SET view = view - 'lifecycle' WHERE case_id = $1", legacy)
    accepted = await intake.post(f"/v1/cases/{legacy}/accept", json={}, headers=estate["staff"])
    assert accepted.status_code == 200 and accepted.json()["version"] == 3, accepted.text
    refolded = (await analytics.get(f"/v1/cases/{legacy}", params={"min_position": accepted.json()["position"]},
                                    headers=desk)).json()
    assert refolded["status"] == "accepted" and refolded["allowed_commands"]


async def _store_as_written(pool, estate_id: str, case_id: str, echo: bool, now: datetime) -> None:
    store = EventStore(pool)
    received = Envelope(
        event_id=uuid.uuid4(), event_type="CaseReceived", case_id=case_id, estate_id=estate_id, stream_version=1,
        occurred_at=now, recorded_at=now, producer="intake", correlation_id=case_id,
        payload={"type": "repair", "category": "door", "channel": "phone", "title": "Door lock jammed",
                 "description": "", "location": {"building": "1", "unit": "1", "room": "0101", "area": None},
                 "reporter": {"household_id": None, "phone_masked": None}, "received_at": now.isoformat(),
                 "priority": "normal", "repair": {"scope": "in_home", "in_warranty": None}})
    decision = Envelope(
        event_id=derived_event_id("dispatch", received.event_id), event_type="CaseDispatched", case_id=case_id,
        estate_id=estate_id, occurred_at=now, recorded_at=now, producer="dispatch", correlation_id=case_id,
        causation_id=str(received.event_id),
        payload={"departments": ["engineering"], "priority": "normal", "rule": "repair", "rule_version": 0,
                 "dispatched_at": now.isoformat(), "coordinator": f"{estate_id.lower()}-butler-li",
                 "assignee": f"{estate_id.lower()}-eng-sun"})
    async with pool.acquire() as conn, conn.transaction():
        await store.append(case_id, 0, [received], conn=conn)
        await record(conn, f"{case_id}/dispatch", [decision])
        if echo:
            await store.append(case_id, 1, [Envelope(
                event_id=uuid.uuid4(), event_type="CaseRouted", case_id=case_id, estate_id=estate_id,
                stream_version=2, occurred_at=now, recorded_at=now, producer="intake", correlation_id=case_id,
                causation_id=str(decision.event_id),
                payload={"dispatch_event_id": str(decision.event_id), "departments": ["engineering"],
                         "coordinator": decision.payload["coordinator"], "assignee": decision.payload["assignee"],
                         "priority": "normal", "dispatch_failed": False})], conn=conn)
        head = await conn.fetchval("SELECT max(position) FROM events WHERE case_id = $1", case_id)
        await conn.executemany(  # dispatch and SLA had applied them then; only the read side projects now
            "INSERT INTO case_positions (consumer, case_id, position) VALUES ($1, $2, $3)",
            [(consumer, case_id, head) for consumer in ("dispatch", "sla")])
