"""The case view folds events of every topic into what a dashboard shows."""
from __future__ import annotations

from services.analytics.domain.case_view import apply, is_breached


def event(kind: str, payload: dict, producer: str = "intake") -> dict:
    return {"event_type": kind, "case_id": "C-1", "estate_id": "E001", "occurred_at": "2026-11-22T09:30:00Z",
            "producer": producer, "payload": payload}


RECEIVED = event("CaseReceived", {
    "type": "repair", "category": "plumbing", "channel": "phone", "title": "Leak",
    "location": {"building": "3"}, "reporter": {"household_id": "H1", "phone_masked": "138****5678"},
    "priority": "normal", "received_at": "2026-11-22T09:30:00Z"})
DISPATCHED = event("CaseDispatched", {"departments": ["engineering"], "coordinator": "butler-li",
                                      "assignee": "eng-sun", "priority": "normal", "rule": "repair",
                                      "rule_version": 1, "dispatched_at": "2026-11-22T09:30:01Z"}, "dispatch")
CLOCK = event("SlaClockStarted", {"obligation_id": "C-1/engineering_notified", "rule": "engineering_notified",
                                  "started_at": "2026-11-22T09:30:00Z", "due_at": "2026-11-22T09:35:00Z"}, "sla")


def fold(*events):
    view = None
    for e in events:
        view = apply(view, e)
    return view


def test_a_dispatched_case_shows_department_coordinator_and_assignee():
    view = fold(RECEIVED, DISPATCHED)
    assert view["status"] == "dispatched" and view["departments"] == ["engineering"]
    assert (view["coordinator"], view["assignee"]) == ("butler-li", "eng-sun")
    assert [h["event_type"] for h in view["history"]] == ["CaseReceived", "CaseDispatched"]


def test_a_deadline_is_met_or_breached():
    met = fold(RECEIVED, CLOCK, event("SlaMet", {"obligation_id": "C-1/engineering_notified",
                                                "rule": "engineering_notified", "due_at": "2026-11-22T09:35:00Z",
                                                "met_at": "2026-11-22T09:31:00Z", "elapsed_seconds": 60}, "sla"))
    assert met["deadlines"] == [{"rule": "engineering_notified", "due_at": "2026-11-22T09:35:00Z",
                                 "met_at": "2026-11-22T09:31:00Z", "breached": False}]
    breached = fold(RECEIVED, CLOCK, event("SlaBreached", {"obligation_id": "C-1/engineering_notified",
                                                          "rule": "engineering_notified",
                                                          "due_at": "2026-11-22T09:35:00Z",
                                                          "breached_at": "2026-11-22T09:35:00Z"}, "sla"))
    assert is_breached(breached) and not is_breached(met)


def test_events_before_the_case_is_known_leave_no_view():
    assert apply(None, DISPATCHED) is None


def test_escalations_are_listed_in_order():
    view = fold(RECEIVED, event("EscalationRaised", {"level": 1, "to_role": "supervisor", "reason": "24h",
                                                     "raised_at": "2026-11-23T09:30:00Z"}, "sla"))
    assert view["escalations"] == [{"level": 1, "to_role": "supervisor", "reason": "24h",
                                    "raised_at": "2026-11-23T09:30:00Z"}]
