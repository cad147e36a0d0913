"""The lifecycle as stories: given the case so far, a command, the events it records."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from estatedesk.contracts import encode
from estatedesk.lifecycle.state import CaseState, charge_event_id, evolve, started
from services.intake.domain.commands import COMMANDS, Actor, decide
from services.intake.domain.fees import FeeSchedule
from services.intake.domain.errors import IllegalTransition, InvalidCommand, NotPermitted

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
STAFF = Actor("eng-sun", "department_staff", frozenset({"engineering"}))
CLEANER = Actor("clean-chen", "department_staff", frozenset({"cleaning"}))
GUARD = Actor("sec-wu", "department_staff", frozenset({"security"}))
DESK, SUPERVISOR = Actor("desk", "front_desk"), Actor("qian", "supervisor")


def case(type_="repair", category="plumbing", **received) -> CaseState:
    return started("C-1", "E001", {"type": type_, "category": category, "priority": "normal", **received})


def given(state: CaseState, *steps) -> CaseState:
    """Apply (command, actor, data[, related cases]) steps, folding the events they record."""
    for command, actor, data, *related in steps:
        for payload in decide(command, state, data, actor, NOW, **(related[0] if related else {})):
            state = evolve(state, type(payload).event_type(), encode(payload))
    return state


def routed(state: CaseState, departments=("engineering",), decision_id="D-1") -> CaseState:
    """Dispatch's decision, as stored in dispatch's stream."""
    return evolve(state, "CaseDispatched", {"departments": list(departments)}, event_id=decision_id,
                  own_stream=False)


def kinds(state, command, actor, **data):
    return [type(p).event_type() for p in COMMANDS[command](state, data, actor, NOW)]


def work(actor: Actor = STAFF) -> tuple:
    return ("accept", actor, {}), ("start", actor, {}), ("complete", actor, {"result": "fixed"})


WORK = work()
CLOSURE = (("inspect", DESK, {"passed": True, "inspector_role": "owner"}),
           ("review", SUPERVISOR, {}), ("return-visit", DESK, {"method": "phone", "satisfaction": "satisfied"}))


def test_a_repair_runs_its_whole_path_to_the_archive():
    state = given(routed(case()), *WORK, *CLOSURE)
    assert state.status == "visited"
    assert kinds(state, "archive", DESK) == ["CaseArchived"]
    assert given(state, ("archive", DESK, {})).status == "archived"


def test_a_dispatch_decision_is_applied_once_and_does_not_move_the_case_version():
    state = routed(case())
    assert (state.status, state.departments, state.version) == ("dispatched", ("engineering",), 1)
    assert routed(state) == state


def test_the_routing_echo_of_older_databases_only_advances_the_version():
    state = evolve(routed(case()), "CaseRouted", {"dispatch_event_id": "D-1", "departments": ["engineering"]})
    assert (state.status, state.departments, state.version) == ("dispatched", ("engineering",), 2)
    echo_alone = evolve(case(), "CaseRouted", {"dispatch_event_id": "D-7", "departments": ["cleaning"]})
    assert (echo_alone.status, echo_alone.departments) == ("dispatched", ("cleaning",))


def test_a_failed_inspection_and_a_dissatisfied_visit_send_the_complaint_back_to_work():
    state = given(routed(case("complaint", "environment"), ("cleaning",)), *work(CLEANER))
    failed = {"passed": False, "inspector_role": "owner"}
    assert kinds(state, "inspect", DESK, **failed) == ["InspectionRecorded", "CaseReopened"]
    state = given(state, ("inspect", DESK, failed))
    assert state.status == "in_progress"
    state = given(state, ("complete", CLEANER, {"result": "again"}), *CLOSURE[:2],
                  ("return-visit", DESK, {"method": "door", "satisfaction": "dissatisfied"}))
    assert state.status == "in_progress" and not state.inspection_passed and not state.reviewed
    with pytest.raises(IllegalTransition):
        COMMANDS["archive"](state, {}, DESK, NOW)
    assert given(state, ("complete", CLEANER, {"result": "third time"}), *CLOSURE, ("archive", DESK, {})).status \
        == "archived"


def test_desk_cases_are_replied_and_archived():
    state = given(case("consultation", "fees"), ("reply", DESK, {"answer": "by the 15th"}))
    assert state.status == "replied"
    assert given(state, ("archive", DESK, {})).status == "archived"


def test_what_the_desk_cannot_answer_goes_to_the_supervisor():
    state = given(case("help", "other"), ("reply", DESK, {"refer_to_supervisor": True, "reason": "legal question"}))
    assert state.status == "referred"
    assert given(state, ("reply", SUPERVISOR, {"answer": "see the lawyer on Tuesday"})).status == "replied"


def test_an_emergency_is_worked_not_replied():
    state = routed(case("help", "medical", priority="urgent"), ("security", "customer_service"))
    with pytest.raises(IllegalTransition):
        COMMANDS["reply"](state, {"answer": "x"}, DESK, NOW)
    state = given(state, *work(GUARD))
    assert given(state, ("archive", DESK, {})).status == "archived"


SCHEDULE = FeeSchedule(3, {"PL-TRAP": {"code": "PL-TRAP", "name": "Kitchen P-trap", "unit": "piece",
                                         "price_fen": 3500}})


def _paid(state=None):
    state = state or given(routed(case(reporter={"household_id": "H-3-2-1502"},
                                       location={"building": "3", "unit": "2", "room": "1502"})),
                           ("accept", STAFF, {}), ("start", STAFF, {}))
    return evolve(state, "WarrantyDetermined", {"in_warranty": False})


def test_paid_work_is_billed_from_the_fee_schedule_to_a_household_and_a_place():
    state = _paid()
    lines = [{"item_code": "PL-TRAP", "quantity": 2}]
    first = decide("complete", state, {"result": "done", "charge_lines": lines}, STAFF, NOW, schedule=SCHEDULE)
    assert [type(p).event_type() for p in first] == ["WorkCompleted", "ChargeableWorkCompleted"]
    bill = first[1]
    assert (bill.total_fen, bill.supersedes_event_id, bill.fee_schedule_version) == (7000, None, 3)
    assert (bill.household_id, bill.location_id) == ("H-3-2-1502", "3-2-1502")
    assert [(line.item, line.unit, line.unit_price_fen) for line in bill.charge_lines] == [
        ("Kitchen P-trap", "piece", 3500)]


def test_reopening_or_cancelling_billed_work_voids_its_bill_and_the_next_bill_stands_alone():
    billed = given(_paid(), ("complete", STAFF, {"result": "done", "charge_lines": [
        {"item_code": "PL-TRAP", "quantity": 1}]}, {"schedule": SCHEDULE}))
    bill_id = str(charge_event_id("C-1", 1))
    for command, body, actor, reason in (("reopen", {"reason": "dripping"}, DESK, "reopened"),
                                         ("cancel", {"reason": "resident withdrew"}, DESK, "cancelled"),
                                         ("inspect", {"passed": False, "inspector_role": "owner"}, DESK, "reopened")):
        events = decide(command, billed, body, actor, NOW)
        voided = [e for e in events if type(e).event_type() == "ChargeVoided"]
        assert [(v.voided_event_id, v.reason) for v in voided] == [(bill_id, reason)], command
    reopened = given(billed, ("reopen", DESK, {"reason": "dripping"}))
    assert reopened.last_charge_event_id is None
    redone = reopened  # back at work
    bill = decide("complete", redone, {"result": "done", "charge_lines": [{"item_code": "PL-TRAP", "quantity": 1}]},
                  STAFF, NOW, schedule=SCHEDULE)[1]
    assert (bill.completion_number, bill.supersedes_event_id) == (2, None)
    unbilled = given(_paid(), ("complete", STAFF, {"result": "done"}))
    assert not [e for e in decide("reopen", unbilled, {"reason": "x"}, DESK, NOW)
                if type(e).event_type() == "ChargeVoided"]


def test_a_free_line_is_the_supervisor_s_alone():
    free = [{"item": "special valve", "unit": "piece", "quantity": 1, "unit_price_fen": 9900}]
    with pytest.raises(NotPermitted):
        decide("complete", _paid(), {"result": "x", "charge_lines": free}, STAFF, NOW, schedule=SCHEDULE)
    [_, bill] = decide("complete", _paid(), {"result": "x", "charge_lines": free}, SUPERVISOR, NOW, schedule=SCHEDULE)
    assert (bill.charge_lines[0].item_code, bill.total_fen) == (None, 9900)


@pytest.mark.parametrize("lines, field", [
    ([{"item_code": "PL-NONE", "quantity": 1}], "charge_lines.0.item_code"),
    ([{"item_code": "PL-TRAP", "quantity": 1, "unit_price_fen": 1}], "charge_lines.0.unit_price_fen"),
    ([{"quantity": 1}], "charge_lines.0.item_code"),
    ([{"item": "x", "quantity": 1}], "charge_lines.0.item_code"),
])
def test_bad_charge_lines_name_the_field(lines, field):
    with pytest.raises(InvalidCommand) as refused:
        decide("complete", _paid(), {"result": "x", "charge_lines": lines}, SUPERVISOR, NOW, schedule=SCHEDULE)
    assert field in [f for f, _ in refused.value.errors]


def test_covered_work_is_not_charged():
    state = evolve(given(routed(case()), ("accept", STAFF, {}), ("start", STAFF, {})),
                   "WarrantyDetermined", {"in_warranty": True})
    with pytest.raises(InvalidCommand):
        COMMANDS["complete"](state, {"result": "x", "charge_lines": [
            {"item": "x", "quantity": 1, "unit_price_fen": 1}]}, STAFF, NOW)


def test_roles_are_enforced():
    state = given(routed(case()), *WORK, CLOSURE[0])
    with pytest.raises(NotPermitted):
        COMMANDS["review"](state, {}, DESK, NOW)
    violation = given(routed(case("violation", "decoration"), ("estate_manager",)),
                      ("accept", SUPERVISOR, {}), ("start", SUPERVISOR, {}))
    with pytest.raises(NotPermitted):
        COMMANDS["complete"](violation, {"result": "fined", "penalty_fen": 100}, STAFF, NOW)
    assert kinds(violation, "complete", SUPERVISOR, result="fined", penalty_fen=100) == \
        ["WorkCompleted", "ViolationPenaltyRecorded"]


def test_a_rejection_awaits_a_new_routing():
    state = given(routed(case()), ("reject", STAFF, {"reason": "not ours"}))
    assert state.status == "dispatched" and state.departments == ()
    with pytest.raises(IllegalTransition):
        COMMANDS["accept"](state, {}, STAFF, NOW)
    assert routed(state, ("customer_service",), "D-2").departments == ("customer_service",)


def test_pause_and_resume_return_to_where_work_was():
    state = given(routed(case()), ("accept", STAFF, {}), ("pause", STAFF, {"reason": "waiting_on_resident"}))
    assert state.status == "paused"
    assert given(state, ("resume", STAFF, {})).status == "accepted"


def test_closed_cases_take_no_more_commands():
    duplicate_of = started("C-2", "E001", {"type": "repair", "category": "plumbing"})
    for closing in (("cancel", DESK, {"reason": "withdrawn"}),
                    ("merge", DESK, {"into_case_id": "C-2"}, {"target": duplicate_of})):
        state = given(routed(case()), closing)
        for command in COMMANDS:
            with pytest.raises(IllegalTransition):
                COMMANDS[command](state, {}, SUPERVISOR, NOW)


def test_a_case_merges_only_into_another_open_case_of_its_estate():
    state = routed(case())
    elsewhere = started("C-2", "E002", {"type": "repair", "category": "plumbing"})
    closed = given(routed(started("C-3", "E001", {"type": "repair", "category": "plumbing"})),
                   ("cancel", DESK, {"reason": "withdrawn"}))
    for into, target in (("C-404", None), ("C-2", elsewhere), ("C-3", closed), ("C-1", state)):
        with pytest.raises(InvalidCommand) as refused:
            COMMANDS["merge"](state, {"into_case_id": into}, DESK, NOW, target=target)
        assert [f for f, _ in refused.value.errors] == ["into_case_id"], into
    open_twin = started("C-4", "E001", {"type": "repair", "category": "plumbing"})
    [merged] = COMMANDS["merge"](state, {"into_case_id": "C-4"}, DESK, NOW, target=open_twin)
    assert merged.into_case_id == "C-4"


def test_the_inspector_is_the_caller_and_a_resident_inspects_their_own_household_s_case_as_owner():
    state = given(routed(case(reporter={"household_id": "H-3-2-1502"})), *WORK)
    [inspection] = COMMANDS["inspect"](state, {"passed": True, "inspector_role": "property_assistant"}, DESK, NOW)
    assert "inspector" not in encode(inspection)
    assert (inspection.actor, inspection.actor_role, inspection.inspector_role) == \
        ("desk", "front_desk", "property_assistant")
    owner = Actor("resident-wang", "resident", household="H-3-2-1502")
    with pytest.raises(InvalidCommand):
        COMMANDS["inspect"](state, {"passed": True, "inspector_role": "property_assistant"}, owner, NOW)
    for stranger in (Actor("resident-li", "resident", household="H-1-1-0101"), Actor("resident-x", "resident")):
        with pytest.raises(NotPermitted):
            COMMANDS["inspect"](state, {"passed": True, "inspector_role": "owner"}, stranger, NOW)
    assert kinds(state, "inspect", owner, passed=True, inspector_role="owner") == ["InspectionRecorded"]
