"""A generated month for 20 estates; every served figure equals a plain recount from the raw events."""
from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from openpyxl import load_workbook

from estatedesk.replay import rebuild_projection
from estatedesk.traffic import generate
from services.analytics import projection
from tests.conftest import token_for
from tests.integration.test_replay import _caught_up
from tests.support import eventually

SH = ZoneInfo("Asia/Shanghai")
MONTH, PREVIOUS = "2026-10", "2026-09"


@pytest_asyncio.fixture(scope="module")
async def generated_month(pool):
    events = await generate(pool, estates=20, cases=50_000, month=MONTH, seed=11, progress=False)
    events += await generate(pool, estates=20, cases=4_000, month=PREVIOUS, seed=12, progress=False)
    await rebuild_projection(pool, projection.CONSUMER, projection.apply_events, projection.forget, progress=False)
    await eventually(lambda: _caught_up(pool), timeout=120, what="projection of the generated months")
    return events


# ---- the reference: a plain recount from the events, sharing no code with the service ----

def _nearest_rank(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[max(math.ceil(share * len(values)) - 1, 0)]


async def _cases(pool, month, estate=None):
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT case_id, event_type, event_id::text AS id, occurred_at, payload::text AS payload FROM events"
            " WHERE case_id LIKE $1 ORDER BY position", f"C-{estate or 'S'}%-{month.replace('-', '')}-%")
    cases = defaultdict(list)
    for r in rows:
        cases[r["case_id"]].append((r["event_type"], r["id"], r["occurred_at"], json.loads(r["payload"])))
    return cases


def _recount(cases) -> dict:
    out = {"total": 0, "by_type": Counter(), "by_category": Counter(), "by_channel": Counter(),
           "by_department": Counter(), "resp": [], "resol": [], "rules": defaultdict(Counter), "breaches": 0,
           "levels": Counter(), "repeats": 0, "completed": 0, "visited": 0, "last_visit": Counter(),
           "paid_cases": 0, "paid_fen": 0, "problems": Counter(), "breached_after_pause": 0,
           "breached_then_reopened": 0}
    for events in cases.values():
        kinds = [e[0] for e in events]
        received = events[0][3]
        at = datetime.fromisoformat(received["received_at"])
        out["total"] += 1
        out["by_type"][received["type"]] += 1
        out["by_category"][f"{received['type']}/{received['category']}"] += 1
        out["by_channel"][received["channel"]] += 1
        routed = [e[3]["departments"] for e in events if e[0] == "CaseDispatched"]
        out["by_department"][routed[-1][0] if routed and routed[-1] else "unrouted"] += 1
        first = [e[2] for e in events if e[0] in ("CaseReplied", "CaseAccepted", "CaseReferredToSupervisor")]
        if first:
            out["resp"].append((first[0] - at).total_seconds())
        done = [e[2] for e in events if e[0] == "WorkCompleted"]
        archived = [e[2] for e in events if e[0] == "CaseArchived"]
        if done or (archived and "CaseCancelled" not in kinds):
            out["resol"].append(((done or archived)[-1] - at).total_seconds())
        # every clock instance counts once: breached if it ever breached (a later pause,
        # resume, completion or reopening never undoes that), else met if it was met
        rule_of = {e[3]["obligation_id"]: e[3]["rule"] for e in events if e[0] == "SlaClockStarted"}
        breached = {e[3]["obligation_id"] for e in events if e[0] == "SlaBreached"}
        met = {e[3]["obligation_id"] for e in events if e[0] == "SlaMet"} - breached
        for obligation in breached:
            out["rules"][rule_of[obligation]]["breached"] += 1
        for obligation in met:
            out["rules"][rule_of[obligation]]["met"] += 1
        out["breaches"] += len(breached)
        out["breached_after_pause"] += bool(breached & {e[3]["obligation_id"] for e in events
                                                         if e[0] == "SlaClockPaused"})
        out["breached_then_reopened"] += bool(breached) and "CaseReopened" in kinds
        out["levels"].update(str(e[3]["level"]) for e in events if e[0] == "EscalationRaised")
        out["repeats"] += "RepeatComplaintDetected" in kinds
        visits = [e[3]["satisfaction"] for e in events if e[0] == "ReturnVisitRecorded"]
        if done:
            out["completed"] += 1
            out["visited"] += bool(visits)
        if visits:
            out["last_visit"][visits[-1]] += 1
        bills = [(e[1], e[3]) for e in events if e[0] == "ChargeableWorkCompleted"]
        superseded = {b["supersedes_event_id"] for _, b in bills}
        effective = [b["total_fen"] for event_id, b in bills if event_id not in superseded]
        if effective:
            out["paid_cases"] += 1
            out["paid_fen"] += sum(effective)
        place = received["location"].get("building")
        out["problems"][(f"building {place}" if place else received["location"].get("area"),
                         received["category"])] += 1
    return out


def _assert_served_equals_recount(served: dict, ref: dict, previous_total: int):
    assert served["total"] == ref["total"]
    for key in ("by_type", "by_category", "by_channel", "by_department"):
        assert served[key] == dict(ref[key]), key
    for key, values in (("response_seconds", ref["resp"]), ("resolution_seconds", ref["resol"])):
        assert served[key] == {"count": len(values), "median": _nearest_rank(values, 0.5),
                               "p90": _nearest_rank(values, 0.9)}, key
    assert served["sla_compliance"] == {rule: {"met": t["met"], "breached": t["breached"],
                                               "compliance": round(t["met"] / (t["met"] + t["breached"]), 4)}
                                        for rule, t in sorted(ref["rules"].items())}
    assert served["breaches"] == ref["breaches"]
    assert served["escalations_by_level"] == dict(ref["levels"])
    assert served["repeat_complaints"] == ref["repeats"]
    visits = sum(ref["last_visit"].values())
    assert served["return_visits"] == {
        "completed": ref["completed"], "visited": ref["visited"],
        "coverage": round(ref["visited"] / ref["completed"], 4), "satisfaction": dict(ref["last_visit"]),
        "satisfied_share": round(ref["last_visit"]["satisfied"] / visits, 4)}
    assert served["paid_work"] == {"cases": ref["paid_cases"], "total_fen": ref["paid_fen"]}
    top = sorted(ref["problems"].items(), key=lambda x: (-x[1], x[0]))[:10]
    assert served["top_problems"] == [{"location": p, "category": c, "count": n} for (p, c), n in top]
    assert served["change"]["total"]["previous"] == previous_total
    assert served["change"]["total"]["delta"] == ref["total"] - previous_total


@pytest.mark.parametrize("estate", [None, "S007"], ids=["group-wide", "one estate"])
async def test_every_served_figure_matches_a_recount_from_the_raw_events(stack, analytics, pool, generated_month,
                                                                        estate):
    assert generated_month > 400_000
    group = token_for(stack, "group_admin", (), "group-analyst")
    params = {"month": MONTH, **({"estate_id": estate} if estate else {})}
    response = await analytics.get("/v1/stats/monthly", params=params, headers=group)
    assert response.status_code == 200, response.text
    reference = _recount(await _cases(pool, MONTH, estate))
    previous = len(await _cases(pool, PREVIOUS, estate))
    assert reference["total"] == (50_000 if estate is None else 2_500)
    # the month holds what a breach must survive: pauses after it, and reopenings
    assert reference["breached_after_pause"] >= (200 if estate is None else 10)
    assert reference["breached_then_reopened"] >= (50 if estate is None else 2)
    _assert_served_equals_recount(response.json(), reference, previous)


async def test_the_month_exports_with_bilingual_headers(stack, analytics, generated_month):
    group = token_for(stack, "group_admin", (), "group-analyst")
    as_csv = await analytics.get("/v1/stats/monthly.csv", params={"month": MONTH, "estate_id": "S003"},
                                 headers=group)
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0] == ["指标 / Figure", "项目 / Item", "数值 / Value"]
    assert ["案件总数 / Total cases", "-", "2500"] in table
    as_xlsx = await analytics.get("/v1/stats/monthly.xlsx", params={"month": MONTH}, headers=group)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [c.value for c in sheet[1]] == ["指标 / Figure", "项目 / Item", "数值 / Value"]
    assert ("案件总数 / Total cases", "-", 50_000) in [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]


async def test_statistics_are_scoped_to_the_readers_estates(stack, analytics):
    desk = token_for(stack, "front_desk", ("E001",), "e001-desk")
    assert (await analytics.get("/v1/stats/monthly", params={"month": MONTH, "estate_id": "S001"},
                                headers=desk)).status_code == 403
    assert (await analytics.get("/v1/stats/monthly", params={"month": "2026-13"}, headers=desk)).status_code == 422
    own = await analytics.get("/v1/stats/monthly", params={"month": MONTH}, headers=desk)
    assert own.status_code == 200 and own.json()["estate_id"] == "E001"


async def test_the_dashboard_and_the_handover_list_show_open_work(stack, intake, analytics):
    from tests.support import repair_case

    created = (await intake.post("/v1/cases", json=repair_case(title="Handover me"))).json()
    await eventually(lambda: _listed(analytics, created["case_id"]), what="case on the handover list")
    board = (await analytics.get("/v1/dashboard", params={"estate_id": "E001"})).json()
    assert board["open"] >= 1 and sum(board["open_by_status"].values()) == board["open"]


async def _listed(analytics, case_id):
    items = (await analytics.get("/v1/handover", params={"estate_id": "E001"})).json()["items"]
    return any(i["case_id"] == case_id for i in items)
