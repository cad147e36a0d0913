"""The case view: what a screen shows of one case, folded from every stream's events.

Status, departments, assignee and what the case waits for come from the shared lifecycle
fold (the one intake decides by), kept in the view as `lifecycle`. The rest is content: what
was written at each step and by whom, and the deadlines as a ledger — one entry per clock
instance, which a pause, a resume, a reopening or a new policy never erases.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from estatedesk.lifecycle import CaseState, evolve, started, waiting_for

from . import file_card

View = dict[str, Any]

FIRST_RESPONSE = frozenset({"CaseReplied", "CaseAccepted", "CaseReferredToSupervisor"})
CLOSED = frozenset({"archived", "cancelled", "merged"})
NOT_DETAILS = frozenset({"actor", "actor_role"})
# Inspections of schema version 1 named the inspector in free text (often the resident):
# the view shows who inspected as the caller's user id and role, never that name.
WITHHELD = {"InspectionRecorded": frozenset({"inspector"})}
RECEIVED_DETAILS = ("channel", "priority", "received_at")


def new_view(event: dict) -> View:
    p = event["payload"]
    state = started(event["case_id"], event["estate_id"], p)
    return {
        "case_id": event["case_id"], "estate_id": event["estate_id"], "type": p["type"],
        "category": p.get("category"), "channel": p["channel"], "title": p["title"],
        "description": p.get("description", ""), "location": p["location"], "reporter": p["reporter"],
        "priority": p["priority"], "received_at": p["received_at"], "received_by": p.get("received_by"),
        "status": state.status, "waiting_for": waiting_for(state), "departments": [], "coordinator": None,
        "assignee": None, "routing": None, "deadlines": [], "escalations": [], "history": [],
        "first_response_at": None, "completed_at": None, "closed_at": None, "return_visits": [],
        "repeat_of": None, "in_warranty": None, "charges": [], "penalty_fen": 0,
        "violation_steps": [], "penalty_in_force": None,
        "group_ref": (p.get("complaint") or {}).get("group_ref"), "lifecycle": state.to_json(),
        "consultation": None, "visit_attempts": [], "visit_closed": None, "mailbox": [],
        "complaint": p.get("complaint"), "file_card": None,
        "on_group_register": state.on_group_register, "complaint_origin": (p.get("complaint") or {}).get("origin"),
        "progress_notes": [], "group_result": None,
    }


def lifecycle_of(view: View) -> CaseState:
    return CaseState.from_json(view["lifecycle"])


def apply(view: View | None, event: dict) -> View | None:
    """The view after `event` (a stored envelope as JSON). Unknown event types only add history."""
    return apply_all(view, [event])


def apply_all(view: View | None, events: list[dict]) -> View | None:
    """The view after `events`, in store order; the lifecycle state is carried between them
    and written back to the view once."""
    state = lifecycle_of(view) if view is not None else None
    for event in events:
        view, state = _step(view, state, event)
    if view is not None and state is not None:
        view["lifecycle"] = state.to_json()
    return view


def _step(view: View | None, state: CaseState | None, event: dict) -> tuple[View | None, CaseState | None]:
    kind, p = event["event_type"], event["payload"]
    if kind == "CaseReceived":
        view = new_view(event)
        state = lifecycle_of(view)
    if view is None or state is None:
        return None, None
    before = state
    if kind != "CaseReceived":
        state = evolve(state, kind, p, event_id=str(event["event_id"]),
                       own_stream=event.get("stream_version") is not None)
    view = {**view, "status": state.status, "waiting_for": waiting_for(state),
            "departments": list(state.departments), "coordinator": state.coordinator, "assignee": state.assignee,
            "priority": state.priority, "in_warranty": state.in_warranty}
    if kind == "CaseRouted" and state.routings == before.routings:
        return view, state  # an older database's echo of a decision shown already
    view["history"] = [*view["history"], history_entry(event)]
    if kind in FIRST_RESPONSE and view["first_response_at"] is None:
        view["first_response_at"] = event["occurred_at"]
    _HANDLERS.get(kind, lambda v, p, e: None)(view, p, event)
    if kind == "EscalationRaised" and state.mailbox_open != before.mailbox_open:
        _mailed(view, p, event)
    if view["status"] in CLOSED and view["closed_at"] is None:
        view["closed_at"] = event["occurred_at"]
    if view.get("file_card") or file_card.opens(kind, p):
        view["file_card"] = file_card.card(view, view.get("file_card") or file_card.opened(event))
    return view, state


def history_entry(event: dict) -> dict:
    """Who did what, when, and what they wrote (the event's own fields)."""
    p = event["payload"]
    if event["event_type"] == "CaseReceived":
        actor, role = p.get("received_by"), p.get("received_by_role")
        details = {k: p[k] for k in RECEIVED_DETAILS if k in p}
    else:
        actor, role = p.get("actor"), p.get("actor_role")
        hidden = NOT_DETAILS | WITHHELD.get(event["event_type"], frozenset())
        details = {k: v for k, v in p.items() if k not in hidden}
    return {"event_type": event["event_type"], "at": event["occurred_at"], "producer": event["producer"],
            "actor": actor, "actor_role": role, "details": details}


def _decided(view: View, p: dict, event: dict) -> None:
    view["routing"] = {k: p.get(k) for k in ("rule", "rule_version", "rule_table", "notify", "staff_needed",
                                             "unstaffed", "bounces")}
    if event["event_type"] == "DispatchFailed":
        view["dispatch_failure"] = p.get("reason")


def _completed(view: View, p: dict, event: dict) -> None:
    view["completed_at"] = event["occurred_at"]


def _visited(view: View, p: dict, event: dict) -> None:
    view["return_visits"] = [*view["return_visits"], {
        "at": event["occurred_at"], "method": p["method"], "satisfaction": p["satisfaction"],
        "comments": p.get("comments", ""), "actor": p.get("actor"), "duration_minutes": p.get("duration_minutes")}]


def _attempted(view: View, p: dict, event: dict) -> None:
    view["visit_attempts"] = [*view.get("visit_attempts", []), {
        "at": event["occurred_at"], "method": p["method"], "attempt": p["attempt"],
        "comments": p.get("comments", ""), "actor": p.get("actor")}]


def _visit_closed(view: View, p: dict, event: dict) -> None:
    view["visit_closed"] = {"at": event["occurred_at"], "remark": p["remark"], "attempts": p["attempts"],
                            "actor": p.get("actor")}


def _noted(view: View, p: dict, event: dict) -> None:
    view["progress_notes"] = [*view.get("progress_notes", []), {
        "at": event["occurred_at"], "note": p["note"], "actor": p.get("actor"), "actor_role": p.get("actor_role")}]


def _group_result(view: View, p: dict, event: dict) -> None:
    view["group_result"] = {k: p.get(k) for k in ("outcome", "result", "satisfaction", "merged_into_case_id",
                                                  "closed_at")}


def _charged(view: View, p: dict, event: dict) -> None:
    kept = [c for c in view["charges"] if c["event_id"] != p.get("supersedes_event_id")]
    view["charges"] = [*kept, {"event_id": event["event_id"], "total_fen": p["total_fen"],
                               "completion_number": p["completion_number"],
                               "charge_lines": p.get("charge_lines", [])}]


def _voided(view: View, p: dict, event: dict) -> None:
    view["charges"] = [c for c in view["charges"] if c["event_id"] != p["voided_event_id"]]


def _escalated(view: View, p: dict, event: dict) -> None:
    view["escalations"] = [*view["escalations"], {"level": p["level"], "to_role": p["to_role"],
                                                  "reason": p.get("reason"), "raised_at": p["raised_at"],
                                                  "rule": p.get("rule")}]


def _mailed(view: View, p: dict, event: dict) -> None:
    """An escalation the lifecycle fold counts as an item of the general manager's mailbox."""
    view["mailbox"] = [*view["mailbox"], {
        "item_id": str(event["event_id"]), "raised_at": p["raised_at"], "reason": p.get("reason"),
        "rule": p.get("rule"), "level": p["level"], "acknowledged_at": None, "acknowledged_by": None, "remark": None}]


def _acknowledged(view: View, p: dict, event: dict) -> None:
    settled = set(p["item_ids"])
    view["mailbox"] = [{**item, "acknowledged_at": event["occurred_at"], "acknowledged_by": p.get("actor"),
                        "remark": p["remark"]} if item["item_id"] in settled and not item["acknowledged_at"]
                       else item for item in view["mailbox"]]


def mailbox_state(view: View) -> str | None:
    """`open` while an item waits for the general manager, `acknowledged` once all are read,
    None for a case that never reached the mailbox."""
    items = view.get("mailbox") or []
    if not items:
        return None
    return "open" if any(not i["acknowledged_at"] for i in items) else "acknowledged"


def mailbox_items(view: View, open_only: bool) -> list[dict]:
    """The case's items of the general manager's mailbox, each with what the mailbox lists of its case."""
    case = {k: view.get(k) for k in ("case_id", "estate_id", "type", "category", "title", "status", "received_at",
                                     "repeat_of")}
    return [{**case, **item} for item in view.get("mailbox") or [] if not (open_only and item["acknowledged_at"])]


def _penalty(view: View, p: dict, event: dict) -> None:
    view["penalty_fen"] += p["amount_fen"]
    # a major violation's penalty is in force once the general manager signs it off (000 §1)
    view["penalty_in_force"] = not lifecycle_of(view).major_violation


def _ladder_step(view: View, p: dict, event: dict) -> None:
    view["violation_steps"] = [*view.get("violation_steps", []), {
        "at": event["occurred_at"], "ladder": p["ladder"], "step": p["step"], "note": p.get("note", ""),
        "rectify_by": p.get("rectify_by"), "actor": p.get("actor"), "actor_role": p.get("actor_role")}]


def _signed_off(view: View, p: dict, event: dict) -> None:
    view["penalty_in_force"] = True
    view["penalty_signed_off"] = {"at": event["occurred_at"], "by": p.get("actor"), "remark": p.get("remark", "")}


_HANDLERS = {
    "CaseDispatched": _decided, "DispatchFailed": _decided, "WorkCompleted": _completed,
    "ReturnVisitRecorded": _visited, "ChargeableWorkCompleted": _charged, "ChargeVoided": _voided,
    "EscalationRaised": _escalated,
    "RepeatComplaintDetected": lambda v, p, e: v.update(repeat_of=p["earlier_case_id"]),
    "ViolationPenaltyRecorded": _penalty, "ViolationStepTaken": _ladder_step, "ViolationPenaltySignedOff": _signed_off,
    "ConsultationTaken": lambda v, p, e: v.update(consultation={"form": p["form"],
                                                                "confidential": p.get("confidential", False)}),
    "ReturnVisitAttempted": _attempted, "ReturnVisitClosed": _visit_closed,
    "ProgressNoted": _noted, "GroupComplaintResultReported": _group_result,
    "MailboxItemAcknowledged": _acknowledged,
}


# ---- deadlines: a ledger of clock instances ----

def _instance(view: View, p: dict) -> dict | None:
    """The ledger entry an SLA event is about: by obligation id, or — for events written
    without one — the latest unsettled entry of the rule."""
    wanted = p.get("obligation_id")
    for entry in reversed(view["deadlines"]):
        if entry["obligation_id"] == wanted or (wanted is None and entry["rule"] == p["rule"]
                                                and not entry["met_at"] and not entry["breached"]):
            return entry
    return None


def _started(view: View, p: dict, event: dict) -> None:
    entry = _instance(view, p) if p.get("obligation_id") else None
    if entry is not None:  # older databases re-announced a resumed clock as a new start
        _resume(entry, event["occurred_at"], p["due_at"])
        return
    number = 1 + sum(1 for d in view["deadlines"] if d["rule"] == p["rule"])
    view["deadlines"] = [*view["deadlines"], {
        "obligation_id": p.get("obligation_id") or f"{view['case_id']}/{p['rule']}/{number}", "rule": p["rule"],
        "started_at": p.get("started_at", event["occurred_at"]), "due_at": p["due_at"], "met_at": None,
        "breached": False, "breached_at": None, "warned": False, "warned_at": None, "paused": [],
        "policy_version": p.get("policy_version")}]


def _resume(entry: dict, at: str, due_at: str) -> None:
    entry["due_at"] = due_at
    entry["paused"] = [({**span, "to": at} if span["to"] is None else span) for span in entry["paused"]]


def _ledger(update):
    def handle(view: View, p: dict, event: dict) -> None:
        view["deadlines"] = [dict(d, paused=list(d["paused"])) for d in view["deadlines"]]
        entry = _instance(view, p)
        if entry is not None:
            update(entry, p, event)
    return handle


def _paused(entry: dict, p: dict, event: dict) -> None:
    entry["paused"].append({"from": p["paused_at"], "to": None})


def _met(entry: dict, p: dict, event: dict) -> None:
    entry["met_at"] = p["met_at"]


def _breached(entry: dict, p: dict, event: dict) -> None:
    entry["breached"], entry["breached_at"] = True, p.get("breached_at", event["occurred_at"])


def _warned(entry: dict, p: dict, event: dict) -> None:
    entry["warned"], entry["warned_at"] = True, p.get("warned_at", event["occurred_at"])


_HANDLERS.update({
    "SlaClockStarted": lambda v, p, e: (v.update(deadlines=[dict(d) for d in v["deadlines"]]), _started(v, p, e)),
    "SlaClockPaused": _ledger(_paused),
    "SlaClockResumed": _ledger(lambda entry, p, e: _resume(entry, p["resumed_at"], p["due_at"])),
    "SlaMet": _ledger(_met), "SlaBreached": _ledger(_breached), "SlaWarning": _ledger(_warned),
})


def is_breached(view: View) -> bool:
    return any(d["breached"] for d in view["deadlines"])


def next_due_at(view: View) -> str | None:
    """The earliest due time of a deadline still owed (None once the case is closed)."""
    if view["status"] in CLOSED:
        return None
    owed = [d["due_at"] for d in view["deadlines"]
            if not d["met_at"] and not (d["paused"] and d["paused"][-1]["to"] is None)]
    return min(owed, key=datetime.fromisoformat) if owed else None


def unsettled_due_at(view: View) -> str | None:
    """The earliest due time of a deadline neither met nor breached, paused or not (None once
    the case is closed): what the dashboard's near-breach list looks among."""
    if view["status"] in CLOSED:
        return None
    unsettled = [d["due_at"] for d in view["deadlines"] if not d["met_at"] and not d["breached"]]
    return min(unsettled, key=datetime.fromisoformat) if unsettled else None


def household_of(view: View) -> str | None:
    """The reporter's household: whose residents may see the case."""
    return (view.get("reporter") or {}).get("household_id")


# What a confidential consultation says (003 §4.3 4): read only by these roles.
CONFIDENTIAL_READERS = frozenset({"front_desk", "supervisor", "estate_manager"})
CONFIDENTIAL_DETAILS = frozenset({"answer", "handling", "result", "reason", "note", "comments", "remark"})
WITHHELD_TEXT = "(confidential)"


def for_reader(view: View, role: str) -> View:
    """The view as `role` may read it: a confidential consultation without its description,
    nor what anyone wrote on it, for everyone but the desk and its supervisors."""
    if not (view.get("consultation") or {}).get("confidential") or role in CONFIDENTIAL_READERS:
        return view
    history = [{**h, "details": {k: (WITHHELD_TEXT if k in CONFIDENTIAL_DETAILS and v else v)
                                 for k, v in h["details"].items()}} for h in view.get("history", [])]
    return {**view, "description": WITHHELD_TEXT if view.get("description") else "", "history": history,
            "return_visits": [{**v, "comments": WITHHELD_TEXT if v.get("comments") else ""}
                              for v in view.get("return_visits", [])],
            "progress_notes": [{**n, "note": WITHHELD_TEXT if n.get("note") else ""}
                               for n in view.get("progress_notes", [])],
            "mailbox": [{**i, "remark": WITHHELD_TEXT if i.get("remark") else i.get("remark")}
                        for i in view.get("mailbox", [])],
            "content_withheld": True}


def public(view: View) -> View:
    """The view as the API answers it: without the fold's bookkeeping."""
    return {k: v for k, v in view.items() if k != "lifecycle"}
