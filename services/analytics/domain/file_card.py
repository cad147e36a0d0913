"""The complaint file card (投诉处理档案卡, 002 §4.2.1): a complaint not completed within its
deadline gets a card, opened when the `complaint_completed` clock breaches and filled as the
case goes on.

The card holds nothing of its own but the moment it was opened: every other field is read
from the case view (its history included), so a card opened late shows what happened before
as well as after, and a refold gives the same card. The complainant is the reporter as the
view holds them, household and masked phone (SPEC §7); staff of the estate see the name
where the case itself shows it.
"""
from __future__ import annotations

from typing import Any

OPENED_BY = "complaint_completed"
DISPATCHES = frozenset({"CaseDispatched", "DispatchFailed"})
MEASURES = {"ProgressNoted": "note", "WorkCompleted": "result"}


def opens(event_type: str, payload: dict[str, Any]) -> bool:
    """Whether this event opens a card: the complaint's completion deadline breached."""
    return event_type == "SlaBreached" and payload.get("rule") == OPENED_BY


def opened(event: dict[str, Any]) -> dict[str, Any]:
    """What the card keeps of the breach that opened it."""
    p = event["payload"]
    return {"opened_at": p.get("breached_at", event["occurred_at"]), "obligation_id": p.get("obligation_id"),
            "due_at": p.get("due_at")}


def card(view: dict[str, Any], opening: dict[str, Any]) -> dict[str, Any]:
    """The card of `view`, opened as `opening` says. Measures are the progress notes and each
    completion's result in order (a reopened case shows the completion that did not settle
    it); the result is the last completion's; the resident's opinion is the last return visit;
    the supervisor's remarks are the reviews' notes."""
    history = view.get("history", [])
    dispatched = next((h["at"] for h in history if h["event_type"] in DISPATCHES), None)
    accepted = [h["details"].get("department") for h in history
                if h["event_type"] == "CaseAccepted" and h["details"].get("department")]
    completions = [h for h in history if h["event_type"] == "WorkCompleted"]
    visit = (view.get("return_visits") or [None])[-1]
    return {
        **{k: opening.get(k) for k in ("opened_at", "obligation_id", "due_at")},
        "complainant": {k: (view.get("reporter") or {}).get(k) for k in ("household_id", "phone_masked")},
        "matter": {"title": view["title"], "description": view.get("description", ""), "category": view["category"],
                   "location": view["location"], "origin": (view.get("complaint") or {}).get("origin"),
                   "group_ref": view.get("group_ref")},
        "received_at": view["received_at"], "dispatched_at": dispatched,
        "completed_at": view.get("completed_at"), "closed_at": view.get("closed_at"),
        "department": accepted[-1] if accepted else next(iter(view.get("departments") or []), None),
        "measures": [{"at": h["at"], "actor": h["actor"], "text": h["details"].get(MEASURES[h["event_type"]], "")}
                     for h in history if h["event_type"] in MEASURES],
        "result": completions[-1]["details"].get("result") if completions else None,
        "resident_opinion": {k: visit.get(k) for k in ("at", "method", "satisfaction", "comments")} if visit else None,
        "supervisor_remarks": [{"at": h["at"], "actor": h["actor"], "text": h["details"].get("notes", "")}
                               for h in history if h["event_type"] == "SupervisorReviewed"],
    }
