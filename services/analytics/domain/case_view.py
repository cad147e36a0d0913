"""The case view: what a dashboard shows of one case, folded from every topic's events."""
from __future__ import annotations

from typing import Any

View = dict[str, Any]

_STATUS_AFTER = {
    "CaseReplied": "replied", "CaseReferredToSupervisor": "referred", "CaseAccepted": "accepted",
    "WorkStarted": "in_progress", "WorkPaused": "paused", "WorkCompleted": "completed",
    "SupervisorReviewed": "reviewed", "CaseReopened": "in_progress", "CaseCancelled": "cancelled",
    "CaseMerged": "merged", "CaseArchived": "archived",
}
FIRST_RESPONSE = frozenset({"CaseReplied", "CaseAccepted", "CaseReferredToSupervisor"})
CLOSED = frozenset({"archived", "cancelled", "merged"})


def _history_entry(event: dict) -> dict:
    return {"event_type": event["event_type"], "at": event["occurred_at"], "producer": event["producer"],
            "actor": event["payload"].get("actor")}


def new_view(event: dict) -> View:
    p = event["payload"]
    return {
        "case_id": event["case_id"], "estate_id": event["estate_id"], "type": p["type"],
        "category": p.get("category"), "channel": p["channel"], "title": p["title"],
        "location": p["location"], "reporter": p["reporter"], "priority": p["priority"],
        "received_at": p["received_at"], "status": "received", "departments": [],
        "coordinator": None, "assignee": None, "deadlines": [], "escalations": [], "history": [],
        "first_response_at": None, "completed_at": None, "closed_at": None, "return_visits": [],
        "repeat_of": None, "in_warranty": None, "charges": [], "penalty_fen": 0,
        "group_ref": (p.get("complaint") or {}).get("group_ref"), "paused_from": None,
    }


def apply(view: View | None, event: dict) -> View | None:
    """The view after `event` (an envelope as JSON). Unknown event types only add history."""
    kind, p = event["event_type"], event["payload"]
    if kind == "CaseReceived":
        view = new_view(event)
    if view is None:
        return None
    view = {**view, "history": [*view["history"], _history_entry(event)]}
    if kind in _STATUS_AFTER:
        view["status"] = _STATUS_AFTER[kind]
    if kind in FIRST_RESPONSE and view["first_response_at"] is None:
        view["first_response_at"] = event["occurred_at"]
    _HANDLERS.get(kind, lambda v, p, e: None)(view, p, event)
    if view["status"] in CLOSED and view["closed_at"] is None:
        view["closed_at"] = event["occurred_at"]
    return view


def _routed(view: View, p: dict, event: dict) -> None:
    if view["status"] in ("received", "dispatched", "referred"):
        view["status"] = "dispatched"
    view.update(departments=p["departments"], coordinator=p.get("coordinator"), assignee=p.get("assignee"),
                priority=p.get("priority", view["priority"]))


def _bounced(view: View, p: dict, event: dict) -> None:
    view.update(status="dispatched", departments=[], assignee=None)


def _failed(view: View, p: dict, event: dict) -> None:
    view["dispatch_failure"] = p["reason"]


def _paused(view: View, p: dict, event: dict) -> None:
    previous = [h["event_type"] for h in view["history"][:-1]]
    view["paused_from"] = "accepted" if previous and previous[-1] == "CaseAccepted" else "in_progress"


def _resumed(view: View, p: dict, event: dict) -> None:
    view["status"], view["paused_from"] = view.get("paused_from") or "in_progress", None


def _completed(view: View, p: dict, event: dict) -> None:
    view["completed_at"] = event["occurred_at"]


def _inspected(view: View, p: dict, event: dict) -> None:
    if p["passed"]:
        view["status"] = "inspected"


def _visited(view: View, p: dict, event: dict) -> None:
    view["return_visits"] = [*view["return_visits"], {"at": event["occurred_at"], "method": p["method"],
                                                      "satisfaction": p["satisfaction"]}]
    if p["satisfaction"] != "dissatisfied":
        view["status"] = "visited"


def _charged(view: View, p: dict, event: dict) -> None:
    kept = [c for c in view["charges"] if c["event_id"] != p.get("supersedes_event_id")]
    view["charges"] = [*kept, {"event_id": event["event_id"], "total_fen": p["total_fen"],
                               "completion_number": p["completion_number"]}]


def _clock(view: View, p: dict, event: dict) -> None:
    view["deadlines"] = [d for d in view["deadlines"] if d["rule"] != p["rule"]] + [
        {"rule": p["rule"], "due_at": p["due_at"], "met_at": None, "breached": False}]


def _settled(view: View, p: dict, event: dict) -> None:
    met = event["event_type"] == "SlaMet"
    view["deadlines"] = [({**d, "met_at": p["met_at"]} if met else {**d, "breached": True})
                         if d["rule"] == p["rule"] else d for d in view["deadlines"]]


def _escalated(view: View, p: dict, event: dict) -> None:
    view["escalations"] = [*view["escalations"], {"level": p["level"], "to_role": p["to_role"],
                                                  "reason": p.get("reason"), "raised_at": p["raised_at"]}]


_HANDLERS = {
    "CaseRouted": _routed, "CaseDispatched": _routed, "DispatchFailed": _failed,
    "CaseTransferred": _bounced, "CaseRejected": _bounced, "WorkPaused": _paused, "WorkResumed": _resumed,
    "WorkCompleted": _completed, "InspectionRecorded": _inspected, "ReturnVisitRecorded": _visited,
    "ChargeableWorkCompleted": _charged, "SlaClockStarted": _clock, "SlaMet": _settled, "SlaBreached": _settled,
    "EscalationRaised": _escalated,
    "SlaWarning": lambda v, p, e: v.update(deadlines=[{**d, "warned": True} if d["rule"] == p["rule"] else d
                                                      for d in v["deadlines"]]),
    "RepeatComplaintDetected": lambda v, p, e: v.update(repeat_of=p["earlier_case_id"]),
    "WarrantyDetermined": lambda v, p, e: v.update(in_warranty=p["in_warranty"]),
    "ViolationPenaltyRecorded": lambda v, p, e: v.update(penalty_fen=v["penalty_fen"] + p["amount_fen"]),
}


def is_breached(view: View) -> bool:
    return any(d["breached"] for d in view["deadlines"])
