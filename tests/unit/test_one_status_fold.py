"""The command side and the case view fold the same events to the same status and the same
allowed commands, after every step of any command sequence."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estatedesk.contracts import encode
from estatedesk.lifecycle import allowed_commands, fold_stored, started
from services.analytics.domain.case_view import apply, lifecycle_of
from services.intake.domain.commands import COMMANDS, Actor
from services.intake.domain.errors import IllegalTransition, InvalidCommand, NotPermitted

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
ROLES = ("front_desk", "department_staff", "supervisor", "estate_manager", "resident", "group_service_center")
DATA = {
    "reply": [{"answer": "ok"}, {"refer_to_supervisor": True, "reason": "hard"}],
    "pause": [{"reason": "waiting_on_parts"}, {"reason": "waiting_on_resident"}, {"reason": "other"}],
    "transfer": [{"to_department": "cleaning", "reason": "theirs"}],
    "reject": [{"reason": "not ours"}],
    "complete": [{"result": "done"}],
    "inspect": [{"passed": True, "inspector_role": "owner"},
                {"passed": False, "inspector_role": "owner"}],
    "return-visit": [{"method": "phone", "satisfaction": s} for s in ("satisfied", "neutral", "dissatisfied")],
    "reopen": [{"reason": "again"}], "cancel": [{"reason": "withdrawn"}], "merge": [{"into_case_id": "C-9"}],
    "progress": [{"note": "n"}],
}
DEPARTMENTS_OF = {"department_staff": frozenset({"engineering"})}
RELATED = {"merge": {"target": started("C-9", "E001", {"type": "repair", "category": "plumbing"})}}
TYPES = [("repair", "plumbing"), ("complaint", "environment"), ("consultation", None), ("help", "other"),
         ("help", "medical"), ("violation", "decoration"), ("suggestion", None)]
STEP = st.one_of(
    st.tuples(st.sampled_from(sorted(COMMANDS)), st.sampled_from(ROLES), st.integers(0, 2)),
    st.tuples(st.sampled_from(["dispatch", "sla"]), st.just(""), st.integers(0, 2)),
)


class Case:
    """A case's stored events as both sides read them."""

    def __init__(self, kind: tuple[str, str | None]):
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.version = 0
        self.store("intake", "CaseReceived", {
            "type": kind[0], "category": kind[1], "channel": "phone", "title": "t", "description": "d",
            "location": {"building": "1"}, "reporter": {}, "priority": "normal",
            "received_at": NOW.isoformat(), "received_by": "desk", "received_by_role": "front_desk"})

    def store(self, producer: str, kind: str, payload: dict) -> None:
        own = producer == "intake"
        self.version += own
        self.events.append({"event_id": f"E-{next(self.ids)}", "event_type": kind, "case_id": "C-1",
                            "estate_id": "E001", "occurred_at": NOW.isoformat(), "producer": producer,
                            "stream_version": self.version if own else None, "payload": payload})

    def command_side(self):
        return fold_stored("C-1", "E001", [(e["event_type"], e["payload"], e["event_id"],
                                            e["stream_version"] is not None) for e in self.events])

    def read_side(self):
        view = None
        for e in self.events:
            view = apply(view, e)
        return view


def assert_sides_agree(case: Case) -> None:
    state, view = case.command_side(), case.read_side()
    assert view["status"] == state.status
    for role in ROLES:
        departments = DEPARTMENTS_OF.get(role, ())
        assert allowed_commands(lifecycle_of(view), role, departments) == allowed_commands(state, role, departments), \
            role


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TYPES), st.lists(STEP, max_size=30))
def test_both_sides_agree_after_every_step(kind, steps):
    case = Case(kind)
    assert_sides_agree(case)
    for command, role, pick in steps:
        if command == "dispatch":
            case.store("dispatch", ["CaseDispatched", "DispatchFailed", "CaseDispatched"][pick],
                       {"departments": [["engineering"], [], ["cleaning", "security"]][pick]})
        elif command == "sla":
            case.store("sla", "SlaBreached", {"obligation_id": "C-1/x/1", "rule": "x"})
        else:
            state = case.command_side()
            options = DATA.get(command, [{}])
            try:
                payloads = COMMANDS[command](state, options[pick % len(options)],
                                             Actor("u", role, DEPARTMENTS_OF.get(role, frozenset())), NOW,
                                             **RELATED.get(command, {}))
            except (IllegalTransition, InvalidCommand, NotPermitted):
                continue
            for payload in payloads:
                case.store("intake", type(payload).event_type(), encode(payload))
        assert_sides_agree(case)


def test_accept_pause_for_parts_resume_is_accepted_on_both_sides():
    case = Case(("repair", "plumbing"))
    case.store("dispatch", "CaseDispatched", {"departments": ["engineering"]})
    staff = Actor("e001-eng-sun", "department_staff", frozenset({"engineering"}))
    for command, data in (("accept", {}), ("pause", {"reason": "waiting_on_parts"}), ("resume", {})):
        for payload in COMMANDS[command](case.command_side(), data, staff, NOW):
            case.store("intake", type(payload).event_type(), encode(payload))
    state, view = case.command_side(), case.read_side()
    assert state.status == view["status"] == "accepted"
    offered = allowed_commands(lifecycle_of(view), "department_staff", staff.departments)
    assert offered == allowed_commands(state, "department_staff", staff.departments)
    assert "start" in offered and "complete" not in offered
