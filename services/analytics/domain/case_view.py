"""The case view: what a dashboard shows of one case, folded from every topic's events."""
from __future__ import annotations

from typing import Any

View = dict[str, Any]


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
    }


def apply(view: View | None, event: dict) -> View | None:
    """The view after `event` (an envelope as JSON). Unknown event types only add history."""
    kind, p = event["event_type"], event["payload"]
    if kind == "CaseReceived":
        view = new_view(event)
    if view is None:
        return None
    view = {**view, "history": [*view["history"], _history_entry(event)]}
    if kind == "CaseDispatched":
        view.update(status="dispatched" if view["status"] == "received" else view["status"],
                    departments=p["departments"], coordinator=p.get("coordinator"),
                    assignee=p.get("assignee"), priority=p["priority"])
    elif kind == "DispatchFailed":
        view.update(departments=[], dispatch_failure=p["reason"])
    elif kind == "SlaClockStarted":
        view["deadlines"] = [d for d in view["deadlines"] if d["rule"] != p["rule"]] + [
            {"rule": p["rule"], "due_at": p["due_at"], "met_at": None, "breached": False}]
    elif kind in ("SlaMet", "SlaBreached"):
        view["deadlines"] = [_settle(d, kind, p) for d in view["deadlines"]]
    elif kind == "EscalationRaised":
        view["escalations"] = [*view["escalations"], {"level": p["level"], "to_role": p["to_role"],
                                                      "reason": p.get("reason"), "raised_at": p["raised_at"]}]
    return view


def _settle(deadline: dict, kind: str, p: dict) -> dict:
    if deadline["rule"] != p["rule"]:
        return deadline
    if kind == "SlaMet":
        return {**deadline, "met_at": p["met_at"]}
    return {**deadline, "breached": True}


def is_breached(view: View) -> bool:
    return any(d["breached"] for d in view["deadlines"])
