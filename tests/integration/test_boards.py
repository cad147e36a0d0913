"""The live boards of an estate of their own: every figure of the dashboard and every line of
the handover list equals what the estate's case views say."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from estatedesk.demo import staffed_estate
from tests.conftest import token_for
from tests.support import eventually, repair_case, stack_now

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _complaint(estate_id: str, hours_ago: float) -> dict:
    return repair_case(estate=estate_id, type="complaint", category="service", title=f"Ignored for {hours_ago} h",
                       repair=None, complaint={"origin": "resident"}, location={"area": "lobby"},
                       received_at=(stack_now() - timedelta(hours=hours_ago)).isoformat())


async def test_the_dashboard_and_the_handover_list_show_exactly_the_estate_s_open_work(stack, intake, analytics):
    estate_id = f"B{uuid.uuid4().hex[:6].upper()}"
    admin = token_for(stack, "group_admin", (), "group-admin")
    setup = staffed_estate("Board Court 看板苑", estate_id, 4).model_dump(mode="json")
    assert (await intake.put(f"/v1/estates/{estate_id}", json=setup, headers=admin)).status_code == 200
    desk = token_for(stack, "front_desk", (estate_id,), f"{estate_id.lower()}-desk-zhao")
    bodies = {
        "repair": repair_case(estate=estate_id, location={"building": "1", "unit": "1", "room": "0101"}),
        "help": repair_case(estate=estate_id, type="help", category="other", title="Door will not open",
                            repair=None, location={"area": "car park"}),
        "breached today": _complaint(estate_id, 24 + 5 / 60),
        "breached days ago": _complaint(estate_id, 72),
        "cancelled": repair_case(estate=estate_id, type="consultation", category="fees", title="Fee?",
                                 repair=None, location={"area": "desk"}),
    }
    cases = {}
    for name, body in bodies.items():
        created = await intake.post("/v1/cases", json=body, headers=desk)
        assert created.status_code == 201, created.text
        cases[name] = created.json()["case_id"]
    cancelled = await intake.post(f"/v1/cases/{cases['cancelled']}/cancel", json={"reason": "withdrawn"},
                                  headers=desk)
    assert cancelled.status_code == 200, cancelled.text

    settled = {
        "repair": lambda v: v["status"] == "dispatched" and v["deadlines"] and v["deadlines"][0]["met_at"],
        "help": lambda v: v["status"] == "dispatched" and any(d["rule"] == "help_replied" for d in v["deadlines"]),
        "breached today": lambda v: v["departments"] and any(d["breached"] for d in v["deadlines"]),
        "breached days ago": lambda v: v["departments"] and any(d["breached"] for d in v["deadlines"]),
        "cancelled": lambda v: v["status"] == "cancelled",
    }

    async def views():
        found = {}
        for name, case_id in cases.items():
            answer = await analytics.get(f"/v1/cases/{case_id}", headers=admin)
            if answer.status_code != 200 or not settled[name](answer.json()):
                return None
            found[name] = answer.json()
        return found
    seen = await eventually(views, what="every case of the estate settled")
    board = (await analytics.get("/v1/dashboard", params={"estate_id": estate_id}, headers=admin)).json()
    handover = (await analytics.get("/v1/handover", params={"estate_id": estate_id}, headers=admin)).json()

    now = stack_now()
    midnight = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    open_views = [v for name, v in seen.items() if name != "cancelled"]
    assert board["open"] == 4
    assert board["open_by_status"] == dict(Counter(v["status"] for v in open_views))
    assert board["open_by_department"] == dict(Counter(d for v in open_views for d in v["departments"]))
    near = {(v["case_id"], d["rule"], d["due_at"]) for v in open_views for d in v["deadlines"]
            if not d["met_at"] and not d["breached"]
            and now <= datetime.fromisoformat(d["due_at"]) <= now + timedelta(minutes=30)}
    assert (cases["help"], "help_replied") in {(c, r) for c, r, _ in near}
    assert {(n["case_id"], n["rule"], n["due_at"]) for n in board["near_breach"]} == near
    breached_today = sum(d["breached"] and datetime.fromisoformat(d["breached_at"]) >= midnight
                         for v in open_views for d in v["deadlines"])
    assert board["breaches_today"] == breached_today
    assert sum(d["breached"] for d in seen["breached days ago"]["deadlines"]) >= 1  # a breach, not today's

    oldest_first = sorted(open_views, key=lambda v: v["received_at"])
    assert [i["case_id"] for i in handover["items"]] == [v["case_id"] for v in oldest_first]
    overdue = {i["case_id"]: i["overdue"] for i in handover["items"]}
    assert overdue == {cases["repair"]: False, cases["help"]: False,
                       cases["breached today"]: True, cases["breached days ago"]: True}
