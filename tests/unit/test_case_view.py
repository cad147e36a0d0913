"""The case view folds events of every stream into what a screen shows."""
from __future__ import annotations

import itertools

from services.analytics.domain.case_view import apply, is_breached, next_due_at, public

_ids = itertools.count(1)


def event(kind: str, payload: dict, producer: str = "intake", at: str = "2026-11-22T09:30:00Z") -> dict:
    n = next(_ids)
    return {"event_id": f"00000000-0000-0000-0000-{n:012d}", "event_type": kind, "case_id": "C-1",
            "estate_id": "E001", "occurred_at": at, "producer": producer,
            "stream_version": n if producer == "intake" else None, "payload": payload}


RECEIVED = event("CaseReceived", {
    "type": "complaint", "category": "service", "channel": "phone", "title": "Lift broken",
    "description": "Lift 2 has stopped between floors for a week", "location": {"building": "3"},
    "reporter": {"household_id": "H1", "phone_masked": "138****5678"}, "priority": "normal",
    "received_at": "2026-11-22T09:30:00Z", "complaint": {"origin": "resident"},
    "received_by": "e001-desk-zhao", "received_by_role": "front_desk"})
DISPATCHED = event("CaseDispatched", {"departments": ["customer_service"], "coordinator": "butler-li",
                                      "assignee": "desk-zhao", "priority": "normal", "rule": "complaint/default",
                                      "rule_version": 1, "dispatched_at": "2026-11-22T09:30:01Z"}, "dispatch")
OBLIGATION = "C-1/complaint_completed/1"


def by(role: str, **fields) -> dict:
    return {"actor": f"user-{role}", "actor_role": role, **fields}


def clock(kind: str, obligation: str = OBLIGATION, **fields) -> dict:
    return event(kind, {"obligation_id": obligation, "rule": "complaint_completed", **fields}, "sla")


def fold(*events):
    view = None
    for e in events:
        view = apply(view, e)
    return view


def test_a_dispatched_case_shows_department_coordinator_assignee_and_the_rule():
    view = fold(RECEIVED, DISPATCHED)
    assert view["status"] == "dispatched" and view["departments"] == ["customer_service"]
    assert (view["coordinator"], view["assignee"], view["waiting_for"]) == ("butler-li", "desk-zhao", "acceptance")
    assert view["routing"]["rule"] == "complaint/default"
    assert [h["event_type"] for h in view["history"]] == ["CaseReceived", "CaseDispatched"]


def test_the_view_carries_the_content_and_who_wrote_each_step():
    view = fold(RECEIVED, DISPATCHED, event("CaseAccepted", by("department_staff", department="customer_service")),
                event("WorkPaused", by("department_staff", reason="waiting_on_parts", note="new motor ordered")),
                event("ProgressNoted", by("supervisor", note="motor arrives Friday", for_group_register=False)))
    assert view["description"] == "Lift 2 has stopped between floors for a week"
    received, *_, paused, noted = view["history"]
    assert (received["actor"], received["actor_role"]) == ("e001-desk-zhao", "front_desk")
    assert paused["details"] == {"reason": "waiting_on_parts", "note": "new motor ordered"}
    assert (noted["actor"], noted["details"]["note"]) == ("user-supervisor", "motor arrives Friday")
    assert view["status"] == "paused" and view["waiting_for"] == "parts"
    assert "lifecycle" not in public(view)


def test_a_breach_stays_a_breach_through_a_pause_a_resume_and_a_reopening():
    view = fold(RECEIVED, DISPATCHED, clock("SlaClockStarted", started_at="2026-11-22T09:30:00Z",
                                            due_at="2026-11-23T09:30:00Z", policy_version=0),
                clock("SlaBreached", due_at="2026-11-23T09:30:00Z", breached_at="2026-11-23T09:30:00Z"),
                clock("SlaClockPaused", paused_at="2026-11-23T10:00:00Z"),
                clock("SlaClockResumed", resumed_at="2026-11-23T12:00:00Z", due_at="2026-11-23T11:30:00Z"),
                clock("SlaMet", due_at="2026-11-23T11:30:00Z", met_at="2026-11-24T08:00:00Z", elapsed_seconds=1),
                clock("SlaClockStarted", "C-1/complaint_completed/2", started_at="2026-11-25T08:00:00Z",
                      due_at="2026-11-26T08:00:00Z", policy_version=1))
    first, second = view["deadlines"]
    assert first["breached"] and first["breached_at"] == "2026-11-23T09:30:00Z"
    assert first["paused"] == [{"from": "2026-11-23T10:00:00Z", "to": "2026-11-23T12:00:00Z"}]
    assert (first["due_at"], first["met_at"]) == ("2026-11-23T11:30:00Z", "2026-11-24T08:00:00Z")
    assert (second["breached"], second["policy_version"]) == (False, 1)
    assert is_breached(view)
    assert next_due_at(view) == "2026-11-26T08:00:00Z"


def test_an_older_database_re_announcing_a_resumed_clock_keeps_its_breach():
    view = fold(RECEIVED, clock("SlaClockStarted", started_at="2026-11-22T09:30:00Z", due_at="2026-11-23T09:30:00Z"),
                clock("SlaBreached", due_at="2026-11-23T09:30:00Z", breached_at="2026-11-23T09:30:00Z"),
                clock("SlaClockStarted", started_at="2026-11-22T09:30:00Z", due_at="2026-11-23T12:30:00Z"))
    assert [(d["breached"], d["due_at"]) for d in view["deadlines"]] == [(True, "2026-11-23T12:30:00Z")]


def test_the_routing_echo_of_an_older_database_changes_nothing_shown():
    echo = event("CaseRouted", {"dispatch_event_id": DISPATCHED["event_id"], "departments": ["customer_service"],
                                "coordinator": "butler-li", "assignee": "desk-zhao"})
    with_echo, without = fold(RECEIVED, DISPATCHED, echo), fold(RECEIVED, DISPATCHED)
    assert public(with_echo) == public(without)
    assert with_echo["lifecycle"]["version"] == without["lifecycle"]["version"] + 1


def test_events_before_the_case_is_known_leave_no_view():
    assert apply(None, DISPATCHED) is None


def test_escalations_are_listed_in_order():
    view = fold(RECEIVED, event("EscalationRaised", {"level": 1, "to_role": "supervisor", "reason": "24h",
                                                     "raised_at": "2026-11-23T09:30:00Z", "rule": "x"}, "sla"))
    assert view["escalations"] == [{"level": 1, "to_role": "supervisor", "reason": "24h",
                                    "raised_at": "2026-11-23T09:30:00Z", "rule": "x"}]


def test_an_old_inspection_shows_who_inspected_as_the_caller_never_the_typed_name():
    old = event("InspectionRecorded", by("front_desk", passed=True, inspector="王女士", inspector_role="owner"))
    [inspection] = [h for h in fold(RECEIVED, DISPATCHED, old)["history"] if h["event_type"] == "InspectionRecorded"]
    assert (inspection["actor"], inspection["actor_role"]) == ("user-front_desk", "front_desk")
    assert inspection["details"] == {"passed": True, "inspector_role": "owner"}
