"""A case's state, folded from its stream; the command side decides against it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from estatedesk.contracts.envelope import derived_event_id

OPEN_END_STATES = frozenset({"archived", "cancelled", "merged"})
DESK_TYPES = frozenset({"consultation", "suggestion", "help"})
NEEDS_FULL_CLOSURE = frozenset({"complaint", "repair"})  # inspection + review + visit before archive


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
    assignee: str | None = None
    routings: frozenset[str] = frozenset()  # dispatch event ids already recorded
    in_warranty: bool | None = None
    paid_help: bool = False
    group_ref: str | None = None
    completions: int = 0
    last_charge_event_id: str | None = None
    inspection_passed: bool = False
    reviewed: bool = False
    visited: bool = False
    paused_from: str | None = None
    received: dict[str, Any] = field(default_factory=dict)

    @property
    def is_closed(self) -> bool:
        return self.status in OPEN_END_STATES

    @property
    def is_paid_work(self) -> bool:
        return (self.type == "repair" and self.in_warranty is False) or self.paid_help


def started(case_id: str, estate_id: str, received: dict[str, Any]) -> CaseState:
    complaint = received.get("complaint") or {}
    return CaseState(
        case_id=case_id, estate_id=estate_id, type=received["type"], category=received.get("category"),
        version=1, priority=received.get("priority", "normal"), received=received,
        paid_help=bool((received.get("help") or {}).get("paid")), group_ref=complaint.get("group_ref"),
    )


_STATUS_AFTER = {
    "CaseReplied": "replied", "CaseReferredToSupervisor": "referred", "CaseAccepted": "accepted",
    "WorkStarted": "in_progress", "WorkResumed": "in_progress", "WorkCompleted": "completed",
    "SupervisorReviewed": "reviewed", "CaseCancelled": "cancelled",
    "CaseMerged": "merged", "CaseArchived": "archived",
}


def evolve(state: CaseState, event_type: str, payload: dict[str, Any]) -> CaseState:
    """The state after one recorded event (the stream's version advances by one)."""
    state = replace(state, version=state.version + 1)
    if event_type in _STATUS_AFTER:
        state = replace(state, status=_STATUS_AFTER[event_type])
    if event_type == "CaseRouted":
        routed = replace(state, departments=tuple(payload["departments"]), assignee=payload.get("assignee"),
                         priority=payload.get("priority", state.priority),
                         routings=state.routings | {payload["dispatch_event_id"]})
        return replace(routed, status="dispatched") if state.status in ("received", "dispatched", "referred") \
            else routed
    if event_type in ("CaseTransferred", "CaseRejected"):
        return replace(state, status="dispatched", departments=(), assignee=None)
    if event_type == "WorkPaused":
        return replace(state, status="paused", paused_from=state.status)
    if event_type == "WorkResumed":
        return replace(state, status=state.paused_from or "in_progress", paused_from=None)
    if event_type == "WorkCompleted":
        return replace(state, completions=payload["completion_number"], inspection_passed=False,
                       reviewed=False, visited=False)
    if event_type == "ChargeableWorkCompleted":
        return replace(state, last_charge_event_id=str(charge_event_id(state.case_id, payload["completion_number"])))
    if event_type == "InspectionRecorded" and payload["passed"]:
        return replace(state, status="inspected", inspection_passed=True)
    if event_type == "SupervisorReviewed":
        return replace(state, reviewed=True)
    if event_type == "ReturnVisitRecorded" and payload["satisfaction"] != "dissatisfied":
        return replace(state, status="visited", visited=True)
    if event_type == "CaseReopened":  # back to work: every closure step is owed again
        return replace(state, status="in_progress", inspection_passed=False, reviewed=False, visited=False)
    if event_type == "WarrantyDetermined":
        return replace(state, in_warranty=payload["in_warranty"])
    return state


def fold(case_id: str, estate_id: str, events: list[tuple[str, dict[str, Any]]]) -> CaseState:
    """Fold a case stream given as (event_type, payload) pairs, starting with CaseReceived."""
    (first_type, first), rest = events[0], events[1:]
    if first_type != "CaseReceived":
        raise ValueError("a case stream starts with CaseReceived")
    state = started(case_id, estate_id, first)
    for event_type, payload in rest:
        state = evolve(state, event_type, payload)
    return state


def charge_event_id(case_id: str, completion_number: int) -> uuid.UUID:
    """One bill per completion, whatever retries or redeliveries happen."""
    return derived_event_id("charge", case_id, completion_number)
