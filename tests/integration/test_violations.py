"""Violations on the real stack (000 §1): the handling ladder recorded step by step with who
and when, the rectification deadline a written notice sets, a major penalty in force only
once the general manager signs it off, a refused fee's own ladder, and no satisfaction visit."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import token_for
from tests.support import StoryCase, repair_case


@pytest.fixture(scope="module")
def people(stack):
    return {
        "desk": token_for(stack, "front_desk", ("E001",), "e001-desk-zhao"),
        "guard": token_for(stack, "department_staff", ("E001",), "e001-manager-wei"),
        "supervisor": token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian"),
        "manager": token_for(stack, "estate_manager", ("E001",), "e001-manager-wei"),
        "gm": token_for(stack, "general_manager", ("E001",), "e001-gm-lu"),
    }


def _violation(category: str, severity: str, title: str) -> dict:
    return repair_case(type="violation", category=category, title=title, repair=None,
                       violation={"severity": severity}, location={"building": "2", "unit": "1", "room": "0901"})


async def test_a_major_violation_climbs_the_ladder_and_its_penalty_waits_for_the_general_manager(
        intake, analytics, people):
    case = await StoryCase.file(intake, analytics, people, _violation(
        "decoration", "major", "Load-bearing wall being cut"))
    await case.view_when(lambda v: v["status"] == "dispatched", what="dispatched")
    await case.do("violation-step", "desk", step="advice", note="told to stop the cutting at once")
    await case.do("violation-step", "desk", 403, step="written_notice", rectify_within_days=3)  # not the desk's
    await case.do("violation-step", "supervisor", 422, step="written_notice")  # a notice needs its deadline
    await case.do("violation-step", "supervisor", 422, step="late_fee")  # the fee ladder's, not conduct's
    notice = await case.do("violation-step", "supervisor", step="written_notice", rectify_within_days=3,
                           note="restore the wall within 3 days")
    assert notice["events"] == ["ViolationStepTaken"]
    view = await case.view_when(lambda v: [d for d in v["deadlines"] if d["rule"] == "violation_rectified"],
                                what="the rectification clock")
    assert [(s["step"], s["actor"], s["actor_role"]) for s in view["violation_steps"]] == [
        ("advice", "e001-desk-zhao", "front_desk"), ("written_notice", "e001-supervisor-qian", "supervisor")]
    [clock] = [d for d in view["deadlines"] if d["rule"] == "violation_rectified"]
    notice_at = datetime.fromisoformat(view["violation_steps"][1]["at"])
    assert datetime.fromisoformat(clock["due_at"]) - notice_at == timedelta(days=3)
    assert datetime.fromisoformat(view["violation_steps"][1]["rectify_by"]) == datetime.fromisoformat(clock["due_at"])

    await case.do("violation-step", "manager", step="compensation", note="repair cost of the wall")
    for command in ("accept", "start"):
        await case.do(command, "manager")
    done = await case.do("complete", "manager", result="wall restored; compensation charged", penalty_fen=500000)
    assert "return-visit" not in done["allowed_commands"]
    view = await case.view_when(lambda v: v["penalty_fen"] == 500000 and [
        d for d in v["deadlines"] if d["rule"] == "violation_rectified" and d["met_at"]], what="penalty, notice met")
    assert view["penalty_in_force"] is False  # recorded, not in force
    [clock] = [d for d in view["deadlines"] if d["rule"] == "violation_rectified"]
    assert not clock["breached"]  # the ladder moved on: the notice is settled
    await case.do("return-visit", "desk", 409, method="phone", satisfaction="satisfied")  # no satisfaction visit
    await case.do("sign-off-penalty", "manager", 403, remark="mine to sign?")
    signed = await case.do("sign-off-penalty", "gm", remark="agreed: 5,000 yuan")
    assert signed["events"] == ["ViolationPenaltySignedOff"]
    view = await case.view_when(lambda v: v["penalty_in_force"], what="the penalty in force")
    assert view["penalty_signed_off"]["by"] == "e001-gm-lu"
    await case.do("sign-off-penalty", "gm", 409, remark="twice")
    await case.do("archive", "desk")


async def test_a_refused_fee_is_reminded_then_sent_a_lawyer_s_letter(intake, analytics, people):
    case = await StoryCase.file(intake, analytics, people, _violation(
        "fee_refusal", "general", "Service fee unpaid for 14 months"))
    await case.view_when(lambda v: v["status"] == "dispatched", what="dispatched")
    await case.do("violation-step", "desk", step="persuasion", note="called; says the lift is always broken")
    await case.do("violation-step", "supervisor", 422, step="advice")  # conduct's ladder, not the fee's
    await case.do("violation-step", "supervisor", step="reminder_letter", rectify_within_days=15)
    await case.do("violation-step", "manager", step="lawyer_letter")
    view = await case.view_when(lambda v: len(v["violation_steps"]) == 3, what="three steps")
    assert [(s["ladder"], s["step"]) for s in view["violation_steps"]] == [
        ("fee_refusal", "persuasion"), ("fee_refusal", "reminder_letter"), ("fee_refusal", "lawyer_letter")]
    # the lawyer's letter is the next step: the reminder's deadline is settled
    view = await case.view_when(lambda v: [d for d in v["deadlines"] if d["rule"] == "violation_rectified"
                                           and d["met_at"]], what="the reminder's deadline settled")
    assert not [d for d in view["deadlines"] if d["rule"] == "violation_rectified"][0]["breached"]
