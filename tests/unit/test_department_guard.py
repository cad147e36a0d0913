"""Department staff work their own department's cases; heads, supervisors and managers keep
the wider rights. The guard the command side decides by is the one the read side offers by."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from estatedesk.contracts import encode
from estatedesk.lifecycle import allowed_commands, evolve, may_give, started
from services.intake.domain.commands import COMMANDS, Actor
from services.intake.domain.errors import InvalidCommand, NotPermitted

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
ENGINEER = Actor("e001-eng-sun", "department_staff", frozenset({"engineering"}))
CLEANER = Actor("e001-clean-chen", "department_staff", frozenset({"cleaning"}))
UNLISTED = Actor("someone", "department_staff")
WORK = ("accept", "start", "pause", "resume", "complete", "transfer", "reject", "progress")
BODIES = {"pause": {"reason": "waiting_on_parts"}, "complete": {"result": "done"}, "progress": {"note": "n"},
          "transfer": {"to_department": "security", "reason": "theirs"}, "reject": {"reason": "not ours"}}


def routed(*departments: str, type_: str = "repair"):
    state = started("C-1", "E001", {"type": type_, "category": "plumbing"})
    return evolve(state, "CaseDispatched", {"departments": list(departments)}, event_id="D-1", own_stream=False)


def then(state, command: str, actor: Actor, **data):
    for payload in COMMANDS[command](state, data, actor, NOW):
        state = evolve(state, type(payload).event_type(), encode(payload))
    return state


def in_each_state(state, actor: Actor):
    """The case at each step of its work, as `actor` moves it."""
    yield state
    for command in ("accept", "start", "pause"):
        state = then(state, command, actor, **BODIES.get(command, {}))
        yield state


def test_staff_of_another_department_may_give_no_work_command_and_are_offered_none():
    for state in in_each_state(routed("engineering"), ENGINEER):
        for actor in (CLEANER, UNLISTED):
            assert not set(allowed_commands(state, actor.role, actor.departments)) & set(WORK), state.status
            offered_to_engineer = allowed_commands(state, ENGINEER.role, ENGINEER.departments)
            assert offered_to_engineer, state.status
            for command in offered_to_engineer:
                with pytest.raises(NotPermitted, match="routed to their department"):
                    COMMANDS[command](state, BODIES.get(command, {}), actor, NOW)


def test_staff_of_the_routed_department_work_the_case_through():
    state = routed("engineering")
    assert allowed_commands(state, "department_staff", {"engineering"}) == ["accept", "transfer", "reject", "progress"]
    for command in ("accept", "start", "pause", "resume", "complete"):
        assert command in allowed_commands(state, ENGINEER.role, ENGINEER.departments)
        state = then(state, command, ENGINEER, **BODIES.get(command, {}))
    assert state.status == "completed"


def test_one_of_several_routed_departments_is_enough():
    state = routed("security", "customer_service", type_="help")
    guard = Actor("e001-sec-wu", "department_staff", frozenset({"security"}))
    assert may_give("accept", state, guard.role, guard.departments)
    assert COMMANDS["accept"](state, {}, guard, NOW)[0].department == "security"


@pytest.mark.parametrize("role", ["department_head", "supervisor", "estate_manager"])
def test_heads_supervisors_and_managers_act_on_any_department_s_case(role):
    state = routed("cleaning")
    actor = Actor("boss", role)
    assert {"accept", "transfer", "reject"} <= set(allowed_commands(state, role))
    assert then(then(state, "accept", actor), "start", actor).status == "in_progress"


def test_accept_speaks_for_a_department_the_case_was_routed_to_and_staff_for_their_own():
    state = routed("security", "customer_service", type_="help")
    guard = Actor("e001-sec-wu", "department_staff", frozenset({"security"}))
    for department in ("greening", "no-such-department"):
        with pytest.raises(InvalidCommand, match="routed to"):
            COMMANDS["accept"](state, {"department": department}, Actor("boss", "supervisor"), NOW)
    with pytest.raises(InvalidCommand, match="your departments"):
        COMMANDS["accept"](state, {"department": "customer_service"}, guard, NOW)
    assert COMMANDS["accept"](state, {"department": "customer_service"}, Actor("boss", "supervisor"), NOW)[0] \
        .department == "customer_service"


def test_a_transfer_goes_to_a_real_department_the_case_is_not_with():
    state = routed("engineering")
    for to in ("plumbers", "", "engineering"):
        with pytest.raises(InvalidCommand) as refused:
            COMMANDS["transfer"](state, {"to_department": to, "reason": "theirs"}, ENGINEER, NOW)
        assert [f for f, _ in refused.value.errors] == ["to_department"]
    [moved] = COMMANDS["transfer"](state, {"to_department": "cleaning", "reason": "theirs"}, ENGINEER, NOW)
    assert (moved.department, moved.to_department) == ("engineering", "cleaning")
    after = then(state, "transfer", ENGINEER, to_department="cleaning", reason="theirs")
    assert allowed_commands(after, ENGINEER.role, ENGINEER.departments) == []
