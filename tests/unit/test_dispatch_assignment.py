"""Dispatch assignment: coordinators, load balancing, failures, re-routing and the working state."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.dispatch.domain import (
    CaseArrived, CaseBounced, CaseFacts, DispatchState, EstateDirectory, decide, parse_rule_table, release_case,
)
from services.dispatch.domain.assignment import pick_least_loaded

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
STAFF = {"customer_service": ["desk-zhao", "desk-sun", "supervisor-qian"], "engineering": ["eng-sun", "eng-zhou"],
         "security": ["sec-wu", "sec-zheng", "sec-feng"], "cleaning": ["clean-chen"],
         "estate_manager": ["manager-wei"]}
GRIDS = [{"id": "G1", "butler": "butler-li", "buildings": ["1", "2"]},
         {"id": "G2", "butler": "butler-wang", "buildings": ["3", "public"]},
         {"id": "G3", "butler": "butler-zhang", "buildings": ["4"], "areas": ["north gate"]}]
ESTATE = EstateDirectory.from_configured("E1", {"name": "Riverside", "grids": GRIDS, "staff": STAFF})


def case(type_: str, category: str | None = None, *, case_id: str = "C1", building: str | None = "1",
         area: str | None = None, **blocks) -> CaseFacts:
    return CaseFacts.from_case_received(case_id, "E1", {
        "type": type_, "category": category, "title": "t", "location": {"building": building, "area": area},
        **blocks})


def arrive(facts: CaseFacts, state: DispatchState = DispatchState(), estate: EstateDirectory = ESTATE,
           cause_id: str | None = None, rules=None):
    return decide(CaseArrived(cause_id or f"received-{facts.case_id}", facts), estate=estate,
                  estate_rules=rules, state=state, now=NOW)


def bounce(state: DispatchState, department: str, cause_id: str, transfer_to: str | None = None,
           case_id: str = "C1", rules=None):
    return decide(CaseBounced(cause_id, case_id, department, transfer_to), estate=ESTATE, estate_rules=rules,
                  state=state, now=NOW)


@pytest.mark.parametrize("building, area, coordinator", [
    ("1", None, "butler-li"), ("3", None, "butler-wang"), ("4", None, "butler-zhang"),
    (None, "north gate", "butler-zhang"),  # a grid naming the area owns it
    (None, "car park", "butler-wang"),  # other public areas: the grid listing "public"
    ("9", None, "supervisor-qian"),  # a building no grid owns: the supervisor stands in
])
def test_the_grid_butler_of_the_location_coordinates(building, area, coordinator):
    assert arrive(case("repair", building=building, area=area)).decision.coordinator == coordinator


def test_a_public_area_without_a_public_grid_is_coordinated_by_the_supervisor():
    estate = EstateDirectory.from_configured("E1", {"name": "x", "grids": GRIDS[:1], "staff": STAFF})
    decision = arrive(case("repair", building=None, area="car park"), estate=estate).decision
    assert decision.coordinator == "supervisor-qian"


@pytest.mark.parametrize("open_cases, cursor, count, picked, next_cursor", [
    ({}, None, 1, ("a",), "a"),
    ({"a": 2, "b": 1, "c": 1}, None, 1, ("b",), "b"),
    ({"a": 2, "b": 1, "c": 1}, "b", 1, ("c",), "c"),
    ({}, "c", 1, ("a",), "a"),  # round robin wraps round
    ({}, "gone", 1, ("a",), "a"),  # a cursor on someone no longer on the roster restarts the rotation
    ({"a": 0, "b": 5, "c": 0}, "a", 2, ("c", "a"), "a"),
    ({}, None, 5, ("a", "b", "c"), "c"),  # never more people than the department has
])
def test_fewest_open_cases_first_ties_round_robin(open_cases, cursor, count, picked, next_cursor):
    assert pick_least_loaded(("a", "b", "c"), count, open_cases, cursor) == (picked, next_cursor)


def test_repairs_alternate_between_engineers_while_loads_are_equal():
    state, assignees = DispatchState(), []
    for n in range(4):
        routed = arrive(case("repair", case_id=f"C{n}"), state)
        assignees.append(routed.decision.assignee)
        state = release_case(routed.state, f"C{n}", f"completed-C{n}")
    assert assignees == ["eng-sun", "eng-zhou", "eng-sun", "eng-zhou"]


def test_the_least_loaded_engineer_gets_the_repair_and_completion_frees_them():
    state = DispatchState(open_cases={"E1": {"eng-sun": 2, "eng-zhou": 3}})
    routed = arrive(case("repair"), state)
    assert routed.decision.assignee == "eng-sun"
    assert routed.state.load("E1") == {"eng-sun": 3, "eng-zhou": 3}
    assert release_case(routed.state, "C1", "completed-C1").load("E1") == {"eng-sun": 2, "eng-zhou": 3}


def test_the_supervisor_takes_desk_work_only_when_nobody_else_can():
    state = DispatchState(open_cases={"E1": {"desk-zhao": 9, "desk-sun": 9}})
    assert arrive(case("consultation"), state).decision.assignee == "desk-zhao"
    alone = EstateDirectory.from_configured("E1", {"name": "x", "staff": {"customer_service": ["supervisor-qian"]}})
    assert arrive(case("consultation"), estate=alone).decision.assignee == "supervisor-qian"


def test_a_department_without_staff_sends_the_case_to_the_supervisor():
    decision = arrive(case("complaint", "greenery")).decision
    assert not decision.dispatched and decision.event_type == "DispatchFailed"
    assert decision.assignee == "supervisor-qian"
    assert decision.reason == "no greening staff at estate E1"
    assert decision.unstaffed == {"greening": "no greening staff at estate E1"}
    assert decision.rule == "complaint-greenery"


def test_an_emergency_goes_out_even_when_one_of_its_departments_has_no_staff():
    estate = EstateDirectory.from_configured("E1", {"name": "x", "grids": GRIDS,
                                                    "staff": {**STAFF, "engineering": []}})
    decision = arrive(case("help", "disaster"), estate=estate).decision
    assert decision.dispatched and decision.priority == "urgent"
    assert decision.assignees == {"security": ("sec-wu",), "engineering": ("supervisor-qian",)}
    assert decision.unstaffed == {"engineering": "no engineering staff at estate E1"}
    assert decision.assignee == "sec-wu"


def test_a_case_no_rule_matches_goes_to_the_supervisor():
    decision = arrive(case("lost_and_found")).decision
    assert not decision.dispatched and decision.assignee == "supervisor-qian"
    assert decision.reason == "no routing rule matches type 'lost_and_found', category None"


def test_a_rejected_case_is_rerouted_avoiding_the_department_that_rejected_it():
    routed = arrive(case("complaint", "environment"))
    assert routed.decision.departments == ("cleaning",)
    rerouted = bounce(routed.state, "cleaning", "rejected-1")
    assert rerouted.decision.departments == ("customer_service",)
    assert rerouted.decision.rule == "complaint-other"
    assert (rerouted.decision.avoided_departments, rerouted.decision.bounces) == (("cleaning",), 1)
    assert rerouted.state.load("E1") == {"desk-zhao": 1}
    refused = bounce(rerouted.state, "customer_service", "rejected-2").decision
    assert not refused.dispatched and refused.avoided_departments == ("cleaning", "customer_service")
    assert refused.reason.startswith("every department able to take it has refused it")


def test_a_rejection_keeps_the_staff_of_the_departments_still_on_the_case():
    routed = arrive(case("help", "medical"))
    rerouted = bounce(routed.state, "customer_service", "rejected-1").decision
    assert rerouted.departments == ("security",)
    assert rerouted.assignees == {"security": routed.decision.assignees["security"]}
    assert rerouted.priority == "urgent"


def test_a_transfer_goes_to_the_department_named():
    routed = arrive(case("repair"))
    transferred = bounce(routed.state, "engineering", "transferred-1", transfer_to="security")
    assert (transferred.decision.departments, transferred.decision.rule) == (("security",), "transfer")
    assert transferred.decision.rule_table == "transfer"
    back = bounce(transferred.state, "security", "transferred-2", transfer_to="engineering").decision
    assert not back.dispatched  # engineering refused it already, and no other rule routes repairs
    assert back.avoided_departments == ("engineering", "security")


@pytest.mark.parametrize("max_bounces, bounces_routed", [(None, 3), (1, 1), (0, 0)])
def test_a_case_bounced_too_often_goes_to_the_supervisor(max_bounces, bounces_routed):
    rules = None if max_bounces is None else parse_rule_table({"version": 2, "rules": [], "max_bounces": max_bounces})
    state = arrive(case("repair"), rules=rules).state
    departments = ["engineering", "security", "cleaning", "customer_service"]
    for n, department in enumerate(departments[:bounces_routed + 1], start=1):
        routed = bounce(state, department, f"bounce-{n}", transfer_to=departments[n % 4], rules=rules)
        state = routed.state
        assert routed.decision.dispatched is (n <= bounces_routed)
    limit = 3 if max_bounces is None else max_bounces
    assert routed.decision.reason == f"bounced {bounces_routed + 1} times, more than the limit of {limit}"
    assert routed.decision.assignee == "supervisor-qian"
    assert state.load("E1") == {"supervisor-qian": 1}


def test_a_bounce_for_a_case_dispatch_never_saw_goes_to_the_supervisor():
    decision = bounce(DispatchState(), "engineering", "rejected-1", case_id="C404").decision
    assert not decision.dispatched and decision.case_id == "C404"
    assert decision.reason == "no dispatch record for case C404; cannot re-route it"


def test_a_redelivered_cause_decides_nothing_new():
    first = arrive(case("help", "medical"))
    again = arrive(case("help", "medical"), first.state)
    assert again.redelivered and again.decision == first.decision and again.state is first.state
    rerouted = bounce(first.state, "security", "rejected-1")
    assert bounce(rerouted.state, "security", "rejected-1").state is rerouted.state
    released = release_case(rerouted.state, "C1", "completed-1")
    assert release_case(released, "C1", "completed-1") is released
    assert released.load("E1") == {}


def test_state_survives_a_json_round_trip():
    state = arrive(case("help", "disaster", help={"serious": True})).state
    state = arrive(case("violation", "decoration", case_id="C2", violation={"severity": "general"}), state).state
    state = bounce(state, "engineering", "rejected-1").state
    state = release_case(state, "C2", "closed-C2")
    restored = DispatchState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert restored.record("C1").latest.to_payload_dict() == state.record("C1").latest.to_payload_dict()


def test_now_must_carry_a_timezone():
    with pytest.raises(ValueError):
        decide(CaseArrived("r", case("repair")), estate=ESTATE, estate_rules=None, state=DispatchState(),
               now=datetime(2026, 11, 23, 10, 0))


EVENTS = st.lists(st.tuples(st.sampled_from(["arrive", "reject", "release"]), st.integers(0, 4),
                            st.sampled_from(["repair", "complaint", "consultation"])), max_size=30)


@settings(max_examples=60, deadline=None)
@given(EVENTS)
def test_open_counts_always_equal_the_cases_people_hold(events):
    state = DispatchState()
    for n, (kind, case_number, type_) in enumerate(events):
        case_id = f"C{case_number}"
        if kind == "arrive":
            state = arrive(case(type_, "environment", case_id=case_id), state).state
        elif kind == "reject" and state.record(case_id):
            department = (state.record(case_id).latest.departments or ("customer_service",))[0]
            state = bounce(state, department, f"bounce-{n}", case_id=case_id).state
        elif kind == "release":
            state = release_case(state, case_id, f"release-{n}")
    held: dict[str, int] = {}
    for record in state.cases.values():
        for staff in record.holders:
            held[staff] = held.get(staff, 0) + 1
    assert dict(state.load("E1")) == held
    assert DispatchState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
