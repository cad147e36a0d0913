"""Violations as stories (000 §1): the handling ladder, who may climb it, the rectification
clock, the general manager's sign-off of a major penalty, and no satisfaction visit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from estatedesk.contracts import encode
from estatedesk.lifecycle import allowed_commands
from estatedesk.lifecycle.state import evolve, started
from services.intake.domain.commands import Actor, decide
from services.intake.domain.errors import IllegalTransition, InvalidCommand, NotPermitted
from services.sla.domain.clocks import SlaCase, dump, fire_due, load, observe
from services.sla.domain.sla_policy import SlaPolicy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
GUARD = Actor("sec-wu", "department_staff", frozenset({"estate_manager"}))
SUPERVISOR, MANAGER, GM = Actor("qian", "supervisor"), Actor("wei", "estate_manager"), Actor("gm-lu", "general_manager")


def violation(category="decoration", severity="general"):
    received = {"type": "violation", "category": category, "priority": "normal", "violation": {"severity": severity}}
    state = started("C-1", "E001", received)
    return evolve(state, "CaseDispatched", {"departments": ["estate_manager"]}, event_id="D-1", own_stream=False)


def given(state, *steps):
    for command, actor, data in steps:
        for payload in decide(command, state, data, actor, NOW):
            state = evolve(state, type(payload).event_type(), encode(payload))
    return state


def test_each_step_is_recorded_with_who_and_when_and_a_written_notice_sets_the_deadline():
    [advised] = decide("violation-step", violation(), {"step": "advice", "note": "asked to stop"}, GUARD, NOW)
    assert (advised.ladder, advised.step, advised.actor, advised.rectify_by) == ("conduct", "advice", "sec-wu", None)
    [notice] = decide("violation-step", violation(), {"step": "written_notice", "rectify_within_days": 7},
                      SUPERVISOR, NOW)
    assert notice.rectify_by == NOW + timedelta(days=7) and notice.actor_role == "supervisor"


def test_beyond_advice_only_a_supervisor_or_the_estate_manager_may_act():
    for step in ("written_notice", "compensation", "public_notice", "referral"):
        with pytest.raises(NotPermitted):
            decide("violation-step", violation(), {"step": step, "rectify_within_days": 3}, GUARD, NOW)
    assert decide("violation-step", violation(), {"step": "referral"}, MANAGER, NOW)[0].step == "referral"


def test_a_refused_fee_climbs_its_own_ladder():
    fee = violation("fee_refusal")
    [letter] = decide("violation-step", fee, {"step": "reminder_letter", "rectify_within_days": 15}, SUPERVISOR, NOW)
    assert (letter.ladder, letter.rectify_by) == ("fee_refusal", NOW + timedelta(days=15))
    with pytest.raises(InvalidCommand) as refused:
        decide("violation-step", fee, {"step": "public_notice"}, SUPERVISOR, NOW)
    assert [f for f, _ in refused.value.errors] == ["step"]
    with pytest.raises(InvalidCommand) as refused:
        decide("violation-step", fee, {"step": "reminder_letter"}, SUPERVISOR, NOW)
    assert [f for f, _ in refused.value.errors] == ["rectify_within_days"]


def test_a_major_penalty_is_in_force_only_once_the_general_manager_signs_it_off():
    worked = given(violation(severity="major"), ("accept", MANAGER, {}), ("start", MANAGER, {}),
                   ("complete", MANAGER, {"result": "fined", "penalty_fen": 500000}))
    assert worked.penalty_unsigned and "sign-off-penalty" in allowed_commands(worked, "general_manager")
    with pytest.raises(NotPermitted):
        decide("sign-off-penalty", worked, {"remark": "ok"}, MANAGER, NOW)
    signed = given(worked, ("sign-off-penalty", GM, {"remark": "agreed"}))
    assert not signed.penalty_unsigned
    with pytest.raises(IllegalTransition):
        decide("sign-off-penalty", signed, {}, GM, NOW)
    general = given(violation(), ("accept", MANAGER, {}), ("start", MANAGER, {}),
                    ("complete", MANAGER, {"result": "fined", "penalty_fen": 20000}))
    assert not general.penalty_unsigned  # a general violation's penalty needs no sign-off


def test_a_violation_gets_no_satisfaction_visit_and_is_archived_without_one():
    done = given(violation(), ("accept", MANAGER, {}), ("start", MANAGER, {}), ("complete", MANAGER, {"result": "ok"}))
    assert "return-visit" not in allowed_commands(done) and "archive" in allowed_commands(done)
    with pytest.raises(IllegalTransition):
        decide("return-visit", done, {"method": "phone", "satisfaction": "satisfied"}, MANAGER, NOW)


def test_the_rectification_clock_runs_to_the_notice_s_deadline_and_a_later_step_settles_it():
    policy, case = SlaPolicy(), {"type": "violation", "category": "decoration", "violation": {"severity": "general"}}
    sla, _ = observe(SlaCase("C-1", case), "CaseReceived", case, NOW, policy, cause="r")
    notice = {"step": "written_notice", "rectify_by": (NOW + timedelta(days=7)).isoformat()}
    sla, started_ = observe(sla, "ViolationStepTaken", notice, NOW, policy, cause="n")
    [clock] = [a.payload for a in started_ if a.payload.get("rule") == "violation_rectified"]
    assert clock["due_at"] == NOW + timedelta(days=7)
    sla = load(dump(sla))  # the deadline survives the timer store
    sla, fired = fire_due(sla, NOW + timedelta(days=6), policy)
    assert not [a for a in fired if a.payload.get("rule") == "violation_rectified"]
    late, fired = fire_due(sla, NOW + timedelta(days=7, minutes=1), policy)
    assert [(a.event_type, a.payload.get("to_role")) for a in fired if a.payload.get("rule") == "violation_rectified"
            ] == [("SlaBreached", None), ("EscalationRaised", "supervisor")]
    settled, met = observe(sla, "ViolationStepTaken", {"step": "compensation"}, NOW + timedelta(days=3), policy, "c")
    assert [a.event_type for a in met if a.payload.get("rule") == "violation_rectified"] == ["SlaMet"]
    advice, none = observe(sla, "ViolationStepTaken", {"step": "advice"}, NOW + timedelta(days=3), policy, "a")
    assert not [a for a in none if a.payload.get("rule") == "violation_rectified"]
