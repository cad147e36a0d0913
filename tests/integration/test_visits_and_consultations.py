"""Return visits that miss the resident, door visits' durations, and consultations — oral or
written, confidential or not, owed the quick reply — on the real stack (002 §4.4, 003 §4.1, §4.3)."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import token_for
from tests.support import StoryCase, eventually, repair_case, stack_now

WITHHELD = "(confidential)"


@pytest.fixture(scope="module")
def people(stack):
    return {
        "desk": token_for(stack, "front_desk", ("E001",), "e001-desk-zhao"),
        "staff": token_for(stack, "department_staff", ("E001",), "e001-eng-sun"),
        "guard": token_for(stack, "department_staff", ("E001",), "e001-sec-wu"),
        "supervisor": token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian"),
        "butler": token_for(stack, "butler", ("E001",), "e001-butler-he"),
    }


async def _file(intake, analytics, people, body) -> StoryCase:
    return await StoryCase.file(intake, analytics, people, body)


def _deadlines(view: dict, rule: str) -> list[dict]:
    return [d for d in view["deadlines"] if d["rule"] == rule]


async def test_a_resident_unreachable_three_times_lets_the_supervisor_close_the_visit_and_archive(
        intake, analytics, people):
    case = await _file(intake, analytics, people, repair_case(title="Balcony drain blocked"))
    await case.view_when(lambda v: v["status"] == "dispatched", what="dispatched")
    for command in ("accept", "start"):
        await case.do(command, "staff")
    await case.do("complete", "staff", result="drain cleared")
    await case.do("inspect", "desk", passed=True, inspector_role="property_assistant")
    await case.do("review", "supervisor")
    first = await case.do("return-visit", "desk", method="phone", outcome="unreachable", comments="no answer")
    assert first["events"] == ["ReturnVisitAttempted"] and first["status"] == "reviewed"
    # an unreachable resident gave no satisfaction; a phone call has no door duration
    await case.do("return-visit", "desk", 422, method="phone", outcome="unreachable", satisfaction="satisfied")
    await case.do("return-visit", "desk", 422, method="phone", satisfaction="satisfied", duration_minutes=10)
    # the first attempt settles the day's visit and starts a retry clock
    view = await case.view_when(lambda v: _deadlines(v, "return_visit_retried"), what="retry clock")
    assert all(d["met_at"] for d in _deadlines(view, "return_visit_made"))
    await case.do("return-visit", "desk", method="door", outcome="unreachable", comments="nobody home")
    refused = await case.do("close-visit", "supervisor", 409, remark="tried twice")  # not before three
    assert "close-visit" not in refused["allowed_commands"]
    await case.do("archive", "desk", 409)
    third = await case.do("return-visit", "desk", method="phone", outcome="unreachable")
    assert "close-visit" not in third["allowed_commands"]  # the desk's own list: not theirs to give
    await case.do("close-visit", "desk", 403, remark="gave up")
    await case.do("close-visit", "supervisor", 422, remark="")
    closed = await case.do("close-visit", "supervisor", remark="three tries; the flat is let, tenant away")
    assert closed["events"] == ["ReturnVisitClosed"] and "archive" in closed["allowed_commands"]
    await case.do("archive", "desk")
    view = await case.view_when(lambda v: v["status"] == "archived" and len(_deadlines(v, "return_visit_retried")) == 3
                                and all(d["met_at"] for d in _deadlines(v, "return_visit_retried")),
                                what="archived, every retry settled")
    assert [a["attempt"] for a in view["visit_attempts"]] == [1, 2, 3]
    assert view["visit_closed"]["attempts"] == 3 and view["visit_closed"]["actor"] == "e001-supervisor-qian"
    month = stack_now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    async def counted():
        report = (await analytics.get("/v1/stats/monthly", params={"month": month, "estate_id": "E001"},
                                      headers=people["supervisor"])).json()
        reach = report["visit_reachability"]
        return reach if reach["unreachable_attempts"] >= 3 and reach["closed_unreachable"] >= 1 else None
    await eventually(counted, what="visit reachability in the month")


async def test_a_help_case_gets_a_return_visit_and_a_door_visit_records_its_duration(intake, analytics, people):
    case = await _file(intake, analytics, people, repair_case(
        type="help", category="medical", title="Elderly resident fell in the lobby", repair=None,
        help={"serious": False}, location={"area": "lobby"}))
    await case.view_when(lambda v: v["status"] == "dispatched", what="dispatched")
    for command in ("accept", "start"):
        await case.do(command, "guard")
    await case.do("complete", "guard", result="taken to hospital, family told")
    assert "return-visit" in (await case.view_when(lambda v: v["status"] == "completed", what="completed")
                              )["allowed_commands"]
    visited = await case.do("return-visit", "desk", method="door", satisfaction="satisfied", duration_minutes=15,
                            comments="recovering well")
    assert visited["status"] == "visited"
    view = await case.view_when(lambda v: v["return_visits"] and any(
        d["met_at"] for d in _deadlines(v, "return_visit_made")), what="visit made on time")
    assert view["return_visits"][0]["duration_minutes"] == 15 and view["return_visits"][0]["method"] == "door"


def _consultation(**overrides) -> dict:
    return repair_case(type="consultation", category="fees", repair=None, location={"area": "front desk"},
                       **overrides)


async def test_a_confidential_consultations_content_is_hidden_from_a_butler_but_shown_to_the_desk(
        intake, analytics, people):
    case = await _file(intake, analytics, people, _consultation(
        title="Question about the management contract", description="Asks what the tender price was",
        consultation={"form": "written", "confidential": True}))
    await case.do("reply", "desk", answer="The supervisor will write back", result="referred in writing")
    desk = await case.view_when(lambda v: v["status"] == "replied", what="replied")
    assert desk["consultation"] == {"form": "written", "confidential": True}
    assert desk["description"] == "Asks what the tender price was"
    assert [h["details"]["answer"] for h in desk["history"] if h["event_type"] == "CaseReplied"] == [
        "The supervisor will write back"]
    butler = await case.view("butler")
    assert butler["description"] == WITHHELD and butler["content_withheld"] is True
    replied = [h for h in butler["history"] if h["event_type"] == "CaseReplied"]
    assert replied[0]["details"]["answer"] == WITHHELD and replied[0]["details"]["result"] == WITHHELD
    assert "tender price" not in str(butler) and "write back" not in str(butler)
    supervisor = await case.view("supervisor")
    assert supervisor["description"] == "Asks what the tender price was"
    # queues: the butler neither reads it nor finds it by what it says
    for who, found in (("butler", False), ("desk", True)):
        listed = (await analytics.get("/v1/cases", params={"estate_id": "E001", "q": "tender price"},
                                      headers=people[who])).json()["items"]
        assert (case.case_id in [c["case_id"] for c in listed]) is found, who
    listed = (await analytics.get("/v1/cases", params={"estate_id": "E001", "type": "consultation", "limit": 500},
                                  headers=people["butler"])).json()["items"]
    mine = [c for c in listed if c["case_id"] == case.case_id]
    assert mine and mine[0]["description"] == WITHHELD and "tender price" not in str(mine)
    # an ordinary consultation is read by everyone
    oral = await _file(intake, analytics, people, _consultation(
        title="Fee due date", description="When is the fee due?", consultation={"form": "oral"}))
    seen = await oral.view_when(lambda v: v["consultation"] is not None, who="butler", what="oral consultation")
    assert seen["description"] == "When is the fee due?" and seen["consultation"]["confidential"] is False


async def test_a_consultation_block_is_checked_at_intake(intake, people):
    for block, field in (({"form": "by pigeon"}, "form"), ({"form": "oral", "confidential": "yes"}, "confidential"),
                         ({"confidential": True}, "form")):
        refused = await intake.post("/v1/cases", json=_consultation(title="x", consultation=block),
                                    headers=people["desk"])
        assert refused.status_code == 422, refused.text
        assert ["body", "consultation", field] in [e["loc"] for e in refused.json()["detail"]]


async def test_a_consultation_not_answered_in_time_breaches_its_clock(intake, analytics, people):
    late = await _file(intake, analytics, people, _consultation(
        title="Parking permit rules", consultation={"form": "oral"},
        received_at=(stack_now() - timedelta(minutes=30)).isoformat()))
    view = await late.view_when(lambda v: any(d["breached"] for d in _deadlines(v, "consultation_replied")),
                                what="quick-reply clock breached")
    assert [(e["level"], e["to_role"]) for e in view["escalations"] if e["rule"] == "consultation_replied"] == [
        (1, "supervisor")]
    on_time = await _file(intake, analytics, people, _consultation(title="Gym hours", consultation={"form": "oral"}))
    await on_time.do("reply", "desk", answer="06:00 to 22:00")
    met = await on_time.view_when(lambda v: any(d["met_at"] for d in _deadlines(v, "consultation_replied")),
                                  what="quick reply met")
    assert not any(d["breached"] for d in _deadlines(met, "consultation_replied"))
