"""A case's state, folded from every event stored about it; the one fold both sides use.

Intake decides its commands against it and analytics shows it, so the status a screen
offers buttons for is the status intake checks. The events come from three streams in the
store's global order: the case's own (intake), dispatch's decisions and SLA's clocks. Only
the case's own events advance `version`, the expected version of the next command.

Dispatch's decision is recorded once, as CaseDispatched / DispatchFailed in dispatch's
stream. Databases written before that still hold intake's echo of each decision
(`CaseRouted`, naming the decision's event id): the echo only advances the version, since the
decision it repeats was applied already.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from typing import Any

from estatedesk.contracts.envelope import derived_event_id

OPEN_END_STATES = frozenset({"archived", "cancelled", "merged"})
DESK_TYPES = frozenset({"consultation", "suggestion", "help"})
NEEDS_FULL_CLOSURE = frozenset({"complaint", "repair"})  # inspection + review + visit before archive
DISPATCH_DECISIONS = frozenset({"CaseDispatched", "DispatchFailed"})
LEGACY_ROUTING_ECHO = "CaseRouted"
FAILED_DISPATCH_DEPARTMENTS = ("customer_service",)  # the desk's supervisor sorts it out
GROUP_ORIGINS = frozenset({"group_center", "quality_office"})  # complaints the group transfers in (002 §4.2.2)
# An escalation to this role is an item of the general manager's mailbox (总经理信箱, 002 §4.2.3)
# until a MailboxItemAcknowledged names it.
MAILBOX_ROLE = "general_manager"


@dataclass(frozen=True)
class CaseState:
    case_id: str
    estate_id: str
    type: str
    category: str | None
    status: str = "received"
    version: int = 0
    priority: str = "normal"
    departments: tuple[str, ...] = ()
    coordinator: str | None = None
    assignee: str | None = None
    routings: frozenset[str] = frozenset()  # dispatch decisions applied (event ids)
    in_warranty: bool | None = None
    paid_help: bool = False
    group_ref: str | None = None
    group_transferred: bool = False  # a complaint from the group centre or the quality office
    completions: int = 0
    last_charge_event_id: str | None = None
    inspection_passed: bool = False
    reviewed: bool = False
    visited: bool = False
    paused_from: str | None = None
    pause_reason: str | None = None
    household_id: str | None = None  # the reporter's household: the only cases its residents see
    unreachable_attempts: int = 0  # return visits that missed the resident since the last completion
    confidential: bool = False  # a confidential consultation: its content only for the desk and supervisors
    location_id: str | None = None  # where the work is, as billing names it: building-unit-room, or the area
    result: str | None = None  # what the last completion says was done
    satisfaction: str | None = None  # the resident's word at the last return visit since that completion
    major_violation: bool = False  # its penalty is in force only once the general manager signs it off
    penalty_unsigned: bool = False  # a major violation's penalty waits for the general manager
    mailbox_open: tuple[str, ...] = ()  # event ids of the escalations to the general manager not yet acknowledged

    @property
    def on_group_register(self) -> bool:
        """A complaint the group register follows: transferred by the group, or naming its reference."""
        return self.group_transferred or self.group_ref is not None

    @property
    def is_closed(self) -> bool:
        return self.status in OPEN_END_STATES

    @property
    def is_paid_work(self) -> bool:
        return (self.type == "repair" and self.in_warranty is False) or self.paid_help

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _FIELDS}
        return {**data, "departments": list(self.departments), "routings": sorted(self.routings),
                "mailbox_open": list(self.mailbox_open)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseState:
        return cls(**{**data, "departments": tuple(data["departments"]), "routings": frozenset(data["routings"]),
                      "mailbox_open": tuple(data.get("mailbox_open", ()))})


_FIELDS = tuple(f.name for f in fields(CaseState))


def started(case_id: str, estate_id: str, received: dict[str, Any]) -> CaseState:
    complaint = received.get("complaint") or {}
    return CaseState(
        case_id=case_id, estate_id=estate_id, type=received["type"], category=received.get("category"),
        version=1, priority=received.get("priority", "normal"),
        paid_help=bool((received.get("help") or {}).get("paid")), group_ref=complaint.get("group_ref"),
        group_transferred=complaint.get("origin") in GROUP_ORIGINS,
        household_id=(received.get("reporter") or {}).get("household_id"),
        location_id=location_id(received.get("location") or {}),
        major_violation=received["type"] == "violation" and (received.get("violation") or {}).get("severity") == "major",
    )


def location_id(location: dict[str, Any]) -> str | None:
    """A case's place as one id: "3-2-1502" for building 3, unit 2, room 1502; else its area."""
    parts = [str(location[name]) for name in ("building", "unit", "room") if location.get(name)]
    return "-".join(parts) if parts else location.get("area")


_STATUS_AFTER = {
    "CaseReplied": "replied", "CaseReferredToSupervisor": "referred", "CaseAccepted": "accepted",
    "WorkStarted": "in_progress", "WorkCompleted": "completed",
    "SupervisorReviewed": "reviewed", "CaseCancelled": "cancelled",
    "CaseMerged": "merged", "CaseArchived": "archived",
}


def evolve(state: CaseState, event_type: str, payload: dict[str, Any], *, event_id: str | None = None,
           own_stream: bool = True) -> CaseState:
    """The state after one stored event of the case. `own_stream` is False for the events of
    dispatch's and SLA's streams, which do not advance the case's version."""
    changes = _changes(state, event_type, payload, event_id)
    if own_stream:
        changes["version"] = state.version + 1
    return replace(state, **changes) if changes else state


def _changes(state: CaseState, event_type: str, payload: dict[str, Any], event_id: str | None) -> dict[str, Any]:
    if event_type in DISPATCH_DECISIONS:
        return _routed(state, event_type, payload, str(event_id))
    if event_type == LEGACY_ROUTING_ECHO:
        kind = "DispatchFailed" if payload.get("dispatch_failed") else "CaseDispatched"
        return _routed(state, kind, payload, payload["dispatch_event_id"])
    if event_type in ("CaseTransferred", "CaseRejected"):
        return {"status": "dispatched", "departments": (), "assignee": None}
    if event_type == "WorkPaused":
        return {"status": "paused", "paused_from": state.status, "pause_reason": payload.get("reason")}
    if event_type == "WorkResumed":
        return {"status": state.paused_from or "in_progress", "paused_from": None, "pause_reason": None}
    if event_type == "WorkCompleted":
        return {"status": "completed", "completions": payload["completion_number"], "inspection_passed": False,
                "reviewed": False, "visited": False, "unreachable_attempts": 0, "result": payload.get("result"),
                "satisfaction": None}
    if event_type == "ChargeableWorkCompleted":
        return {"last_charge_event_id": str(charge_event_id(state.case_id, payload["completion_number"]))}
    if event_type == "ChargeVoided":
        return {"last_charge_event_id": None}
    if event_type == "InspectionRecorded":
        return {"status": "inspected", "inspection_passed": True} if payload["passed"] else {}
    if event_type == "SupervisorReviewed":
        return {"status": "reviewed", "reviewed": True}
    if event_type == "ReturnVisitRecorded":
        visited = {"status": "visited", "visited": True} if payload["satisfaction"] != "dissatisfied" else {}
        return {**visited, "satisfaction": payload["satisfaction"]}
    if event_type == "ConsultationTaken":
        return {"confidential": bool(payload.get("confidential"))}
    if event_type == "ReturnVisitAttempted":
        return {"unreachable_attempts": state.unreachable_attempts + 1}
    if event_type == "ReturnVisitClosed":  # the visit owed is settled without one: archivable
        return {"status": "visited", "visited": True}
    if event_type == "CaseReopened":  # back to work: every closure step is owed again
        return {"status": "in_progress", "inspection_passed": False, "reviewed": False, "visited": False,
                "unreachable_attempts": 0,
                "paused_from": None, "pause_reason": None}
    if event_type == "WarrantyDetermined":
        return {"in_warranty": payload["in_warranty"]}
    if event_type == "EscalationRaised" and payload.get("to_role") == MAILBOX_ROLE \
            and event_id is not None and str(event_id) not in state.mailbox_open:
        return {"mailbox_open": (*state.mailbox_open, str(event_id))}
    if event_type == "ViolationPenaltyRecorded":
        return {"penalty_unsigned": state.major_violation}
    if event_type == "ViolationPenaltySignedOff":
        return {"penalty_unsigned": False}
    if event_type == "MailboxItemAcknowledged":
        settled = set(payload["item_ids"])
        return {"mailbox_open": tuple(i for i in state.mailbox_open if i not in settled)}
    if event_type in _STATUS_AFTER:
        return {"status": _STATUS_AFTER[event_type]}
    return {}


def _routed(state: CaseState, kind: str, payload: dict[str, Any], decision_id: str) -> dict[str, Any]:
    if decision_id in state.routings or state.is_closed:
        return {}
    departments = tuple(payload.get("departments") or ()) if kind == "CaseDispatched" else ()
    routed = {"departments": departments or FAILED_DISPATCH_DEPARTMENTS, "coordinator": payload.get("coordinator"),
              "assignee": payload.get("assignee"), "priority": payload.get("priority", state.priority),
              "routings": state.routings | {decision_id}}
    if state.status in ("received", "dispatched", "referred"):
        routed["status"] = "dispatched"
    return routed


def fold(case_id: str, estate_id: str, events: list[tuple[str, dict[str, Any]]]) -> CaseState:
    """Fold the case's own stream given as (event_type, payload) pairs, starting with CaseReceived."""
    return fold_stored(case_id, estate_id, [(t, p, None, True) for t, p in events])


def fold_stored(case_id: str, estate_id: str, events: list[tuple[str, dict[str, Any], str | None, bool]]
                ) -> CaseState:
    """Fold every stored event of the case, in store order, as (event_type, payload,
    event_id, own_stream); the first of the case's own events is its CaseReceived."""
    own = [e for e in events if e[3]]
    if not own or own[0][0] != "CaseReceived":
        raise ValueError("a case stream starts with CaseReceived")
    state: CaseState | None = None
    for event_type, payload, event_id, own_stream in events:
        if state is None:
            if event_type != "CaseReceived":
                continue  # a decision stored before the case it decides is applied after it
            state = started(case_id, estate_id, payload)
            continue
        state = evolve(state, event_type, payload, event_id=event_id, own_stream=own_stream)
    assert state is not None
    return state


def waiting_for(state: CaseState) -> str | None:
    """What the case waits for next, in words a queue can sort by (None: nothing, it is closed)."""
    if state.is_closed:
        return None
    if state.status == "paused":
        return {"waiting_on_resident": "resident", "waiting_on_parts": "parts"}.get(state.pause_reason or "",
                                                                                   "third_party")
    if state.status == "received":
        return "dispatch"
    if state.status == "dispatched":
        return "acceptance" if state.departments else "re_routing"
    if state.status == "referred":
        return "supervisor"
    if state.status == "accepted":
        return "start"
    if state.status == "in_progress":
        return "completion"
    if state.status == "completed":
        return "inspection" if state.type in NEEDS_FULL_CLOSURE else "return_visit"
    if state.status == "inspected":
        return "review"
    if state.status == "reviewed":
        return "return_visit"
    return "archive"


def charge_event_id(case_id: str, completion_number: int) -> uuid.UUID:
    """One bill per completion, whatever retries or redeliveries happen."""
    return derived_event_id("charge", case_id, completion_number)


def void_event_id(charge_event_id: str) -> uuid.UUID:
    """A bill is voided once, however often the command that voids it is retried."""
    return derived_event_id("charge-void", charge_event_id)
