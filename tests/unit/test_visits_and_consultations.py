"""Visit reachability in the month, a confidential consultation as each role reads it, and the
unreachable-visit ladder in the one fold."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from estatedesk.contracts import encode
from estatedesk.lifecycle import allowed_commands
from estatedesk.lifecycle.state import evolve, started
from services.analytics.domain.case_view import apply_all, for_reader, public
from services.analytics.domain.month_report import figures
from services.intake.domain.commands import COMMANDS, Actor
from services.intake.domain.errors import IllegalTransition, InvalidCommand, NotPermitted
from tests.unit.test_month_report import view

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
DESK, SUPERVISOR = Actor("d", "front_desk"), Actor("s", "supervisor")


def test_the_month_counts_visits_made_unreachable_attempts_and_visits_closed_unreachable():
    views = [view("A", return_visits=[{"satisfaction": "satisfied"}], visit_attempts=[{"attempt": 1}]),
             view("B", visit_attempts=[{"attempt": 1}, {"attempt": 2}, {"attempt": 3}],
                  visit_closed={"remark": "moved out", "attempts": 3}),
             view("C")]  # a view stored before attempts were kept
    assert figures(views)["visit_reachability"] == {"reached": 1, "unreachable_attempts": 4, "closed_unreachable": 1}


def _case(*events):
    envelopes = [{"event_type": kind, "payload": payload, "case_id": "C-1", "estate_id": "E001",
                  "event_id": f"e{i}", "occurred_at": "2026-11-22T09:00:00+00:00", "producer": "intake",
                  "stream_version": i + 1} for i, (kind, payload) in enumerate(events)]
    return public(apply_all(None, envelopes))


RECEIVED = {"type": "consultation", "category": "fees", "channel": "phone", "title": "Contract", "description": "secret",
            "location": {"area": "desk"}, "reporter": {}, "received_at": "2026-11-22T09:00:00+00:00",
            "priority": "normal"}


@pytest.mark.parametrize("role, sees", [("front_desk", True), ("supervisor", True), ("estate_manager", True),
                                        ("butler", False), ("department_staff", False), ("general_manager", False)])
def test_a_confidential_consultation_is_read_in_full_only_by_the_desk_and_its_supervisors(role, sees):
    case = _case(("CaseReceived", RECEIVED), ("ConsultationTaken", {"form": "written", "confidential": True}),
                 ("CaseReplied", {"answer": "the answer", "handling": "", "result": "done", "actor": "d",
                                  "actor_role": "front_desk"}))
    read = for_reader(case, role)
    assert ("secret" in str(read) and "the answer" in str(read)) is sees
    assert read["title"] == "Contract" and read["consultation"]["form"] == "written"


def test_an_open_consultation_is_read_by_everyone():
    case = _case(("CaseReceived", RECEIVED), ("ConsultationTaken", {"form": "oral", "confidential": False}))
    assert for_reader(case, "butler") == case


def test_the_visit_closes_only_after_three_unreachable_attempts_and_only_by_a_supervisor():
    state = started("C-1", "E001", {"type": "help", "category": "other"})
    for kind, payload in (("WorkStarted", {}), ("WorkCompleted", {"completion_number": 1})):
        state = evolve(state, kind, payload)
    for attempt in (1, 2, 3):
        with pytest.raises(IllegalTransition):
            COMMANDS["close-visit"](state, {"remark": "x"}, SUPERVISOR, NOW)
        [tried] = COMMANDS["return-visit"](state, {"method": "phone", "outcome": "unreachable"}, DESK, NOW)
        assert tried.attempt == attempt
        state = evolve(state, "ReturnVisitAttempted", encode(tried))
    with pytest.raises(NotPermitted):
        COMMANDS["close-visit"](state, {"remark": "x"}, DESK, NOW)
    with pytest.raises(InvalidCommand):
        COMMANDS["close-visit"](state, {"remark": " "}, SUPERVISOR, NOW)
    [closed] = COMMANDS["close-visit"](state, {"remark": "moved out"}, SUPERVISOR, NOW)
    state = evolve(state, "ReturnVisitClosed", encode(closed))
    assert state.status == "visited" and "archive" in allowed_commands(state, "front_desk")
    # a new completion owes a new visit, with its own count of attempts
    assert evolve(state, "WorkCompleted", {"completion_number": 2}).unreachable_attempts == 0
