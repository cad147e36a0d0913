"""Random command sequences never reach a state the SPEC forbids; a command is refused exactly
when the state or the caller's role does not offer it, and then it records nothing."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estatedesk.contracts import encode
from estatedesk.lifecycle import allowed_commands
from estatedesk.lifecycle.state import NEEDS_FULL_CLOSURE, evolve, started
from services.intake.domain.commands import COMMANDS, Actor
from services.intake.domain.errors import IllegalTransition, InvalidCommand, NotPermitted

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
ACTORS = [Actor("a", role, frozenset({"engineering"}) if role == "department_staff" else frozenset())
          for role in ("front_desk", "department_staff", "supervisor", "estate_manager")]
RELATED = {"merge": {"target": started("C-9", "E001", {"type": "repair", "category": "plumbing"})}}
DATA = {
    "reply": [{"answer": "ok"}, {"refer_to_supervisor": True, "reason": "hard"}, {}],
    "pause": [{"reason": "waiting_on_resident"}, {"reason": "nap"}],
    "transfer": [{"to_department": "cleaning", "reason": "theirs"}, {}],
    "reject": [{"reason": "not ours"}],
    "complete": [{"result": "done"}, {"result": "done", "charge_lines": [{"item": "x", "quantity": 1,
                                                                           "unit_price_fen": 100}]}, {}],
    "inspect": [{"passed": True, "inspector_role": "owner"},
                {"passed": False, "inspector_role": "owner"}],
    "return-visit": [{"method": "phone", "satisfaction": s} for s in ("satisfied", "neutral", "dissatisfied")],
    "reopen": [{"reason": "again"}], "cancel": [{"reason": "withdrawn"}], "merge": [{"into_case_id": "C-9"}],
    "progress": [{"note": "n"}],
}
STEP = st.one_of(
    st.tuples(st.sampled_from(sorted(COMMANDS)), st.sampled_from(ACTORS), st.integers(0, 2)),
    st.tuples(st.just("route"), st.sampled_from(ACTORS), st.integers(0, 2)),
)
TYPES = [("repair", "plumbing"), ("complaint", "environment"), ("consultation", None), ("help", "other"),
         ("help", "medical"), ("violation", "decoration"), ("suggestion", None)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TYPES), st.booleans(), st.lists(STEP, max_size=40))
def test_no_command_sequence_reaches_a_forbidden_state(kind, in_warranty, steps):
    state = started("C-1", "E001", {"type": kind[0], "category": kind[1], "priority": "normal"})
    state = evolve(state, "WarrantyDetermined", {"in_warranty": in_warranty})
    history: list[str] = []
    for n, (command, actor, pick) in enumerate(steps):
        if command == "route":
            state = evolve(state, "CaseDispatched", {"departments": ["engineering"]}, event_id=f"D-{n}",
                           own_stream=False)
            continue
        offered = allowed_commands(state, actor.role, actor.departments)
        options = DATA.get(command, [{}])
        try:
            payloads = COMMANDS[command](state, options[pick % len(options)], actor, NOW,
                                         **RELATED.get(command, {}))
        except IllegalTransition as refused:  # the state does not allow it, whoever asks
            assert command not in allowed_commands(state), f"{command} refused on a {state.status} case"
            assert command not in offered and refused.allowed == allowed_commands(state)
            continue
        except NotPermitted:  # the state allows it, this caller may not give it
            assert command not in offered and command in allowed_commands(state), command
            continue
        except InvalidCommand:  # an offered command with a bad body
            assert command in offered, command
            continue
        assert command in offered, f"{command} accepted on a {state.status} case without being offered"
        assert payloads and not state.is_closed, f"{command} accepted on a {state.status} case"
        for payload in payloads:
            state = evolve(state, type(payload).event_type(), encode(payload))
            history.append(type(payload).event_type())
        if state.status == "archived" and state.type in NEEDS_FULL_CLOSURE:
            assert state.inspection_passed and state.reviewed and state.visited
            completions = [i for i, e in enumerate(history) if e == "WorkCompleted"]
            tail = history[completions[-1]:] if completions else history
            assert "InspectionRecorded" in tail and "SupervisorReviewed" in tail and "ReturnVisitRecorded" in tail
        if "ChargeableWorkCompleted" in history:
            assert state.is_paid_work
