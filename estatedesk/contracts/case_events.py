"""Events of a case's lifecycle after it is received (SPEC §3 "Lifecycle"), all on case-events
except the charge, which billing reads from billing-events."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .events import Payload


class _ByStaff(Payload):
    actor: str
    actor_role: str


class CaseRouted(Payload):
    """No longer written: intake's echo of a dispatch decision, kept readable for databases
    that hold it. The decision itself is CaseDispatched / DispatchFailed, stored by dispatch."""

    dispatch_event_id: str
    departments: list[str]
    coordinator: str | None = None
    assignee: str | None = None
    priority: Literal["normal", "urgent"] = "normal"
    dispatch_failed: bool = False


class CaseReplied(_ByStaff):
    answer: str
    handling: str = ""
    result: str = ""


class CaseReferredToSupervisor(_ByStaff):
    reason: str


class CaseAccepted(_ByStaff):
    department: str | None = None


class WorkStarted(_ByStaff):
    pass


class WorkPaused(_ByStaff):
    reason: Literal["waiting_on_resident", "waiting_on_parts", "other"]
    note: str = ""


class WorkResumed(_ByStaff):
    pass


class CaseTransferred(_ByStaff):
    department: str | None = None
    to_department: str
    reason: str


class CaseRejected(_ByStaff):
    department: str
    reason: str


class ChargeLine(BaseModel):
    """One line of a bill: an item of the estate's fee schedule (`item_code`, priced by it),
    or a free line a supervisor priced by hand (`item_code` None)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    item: str
    quantity: int
    unit_price_fen: int
    total_fen: int
    item_code: str | None = None
    unit: str | None = None


class WorkCompleted(_ByStaff):
    result: str
    completion_number: int
    charge_lines: list[ChargeLine] = []


class ChargeableWorkCompleted(Payload):
    """A bill for paid work; a recompletion after a reopen supersedes the earlier one.
    Version 2 names whom and where to bill — the household and location ids, never a
    resident's name or phone — and the fee schedule version the lines were priced by."""

    completion_number: int
    charge_lines: list[ChargeLine]
    total_fen: int
    reason: Literal["out_of_warranty_repair", "paid_help"]
    supersedes_event_id: str | None = None
    completed_at: datetime
    household_id: str | None = None
    location_id: str | None = None
    fee_schedule_version: int | None = None


class ChargeVoided(Payload):
    """The bill of paid work that was reopened or cancelled no longer stands; a later
    completion bills afresh."""

    voided_event_id: str
    reason: Literal["reopened", "cancelled"]
    voided_at: datetime


class InspectionRecorded(_ByStaff):
    """Acceptance inspection (002 §4.4.4). The inspector is the caller — `actor` and
    `actor_role` — inspecting as the owner or a property assistant. Schema version 1 also
    carried the inspector's name as typed, a resident's name on the wire; version 2 has none."""

    passed: bool
    inspector_role: Literal["owner", "property_assistant"]
    notes: str = ""


def inspection_v1_to_v2(payload: dict) -> dict:
    """Version 1 named the inspector in free text; the name is dropped, the caller stays."""
    return {k: v for k, v in payload.items() if k != "inspector"}


class SupervisorReviewed(_ByStaff):
    notes: str = ""


class ReturnVisitRecorded(_ByStaff):
    method: Literal["phone", "door"]
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"]
    comments: str = ""
    duration_minutes: int | None = None  # a door visit's length (002 §4.4.2: 10-20 min); schema version 2


class ReturnVisitAttempted(_ByStaff):
    """A return visit that did not reach the resident; another attempt is owed."""

    method: Literal["phone", "door"]
    attempt: int  # unreachable attempts since the last completion, this one included
    comments: str = ""


class ConsultationTaken(Payload):
    """How a consultation came in, beside its CaseReceived (003 §4.3): oral or written, and
    whether it touches confidential matters, whose content only the desk and supervisors read."""

    form: Literal["oral", "written"]
    confidential: bool = False


class ReturnVisitClosed(_ByStaff):
    """A supervisor ends the visit owed after repeated unreachable attempts, so the case can be archived."""

    remark: str
    attempts: int


class CaseReopened(_ByStaff):
    reason: str


class CaseCancelled(_ByStaff):
    reason: str


class CaseMerged(_ByStaff):
    into_case_id: str


class CaseArchived(_ByStaff):
    pass


class ProgressNoted(_ByStaff):
    note: str
    for_group_register: bool = False
    group_ref: str | None = None


class GroupComplaintResultReported(Payload):
    """The final result of a complaint on the group's register (002 §4.2.2), sent back when
    the case closes, in the same append as its closing event. For the group's own systems:
    the register's reference, no resident's name or phone, no staff member's."""

    group_ref: str | None  # None: transferred by the group without naming its reference
    outcome: Literal["archived", "cancelled", "merged"]
    result: str  # archived: the last completion's result; cancelled: the reason; merged: ""
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"] | None = None
    merged_into_case_id: str | None = None
    closed_at: datetime


class RepeatComplaintDetected(Payload):
    earlier_case_id: str
    how: Literal["explicit_link", "same_household_category"]
    household_id: str | None = None
    category: str | None = None


class MailboxItemAcknowledged(_ByStaff):
    """The general manager read the items of the case's mailbox (总经理信箱, 002 §4.2.3):
    `item_ids` are the escalations to the general manager it settles, open when it was given."""

    item_ids: list[str]
    remark: str


class WarrantyDetermined(Payload):
    in_warranty: bool
    rule: str
    component: str | None = None
    handover_date: date | None = None
    liability_years: int | None = None
    overridden: bool = False
    override_reason: str | None = None


class ViolationPenaltyRecorded(_ByStaff):
    amount_fen: int
    note: str = ""


class ViolationStepTaken(_ByStaff):
    """One step of the violation handling ladder (000 §1), recorded with who and when: for
    conduct advice, a written notice with a rectification deadline, compensation, a public
    notice, referral to the authorities; for a refused fee persuasion, a reminder letter with
    a deadline to pay, a late fee, a lawyer's letter, a public posting, suspended service,
    arbitration."""

    ladder: Literal["conduct", "fee_refusal"]
    step: str
    note: str = ""
    rectify_by: datetime | None = None


class ViolationPenaltySignedOff(_ByStaff):
    """The general manager signed off the penalty of a major violation: only now it is in force (000 §1)."""

    remark: str = ""


CASE_LIFECYCLE_EVENTS: tuple[type[Payload], ...] = (
    CaseRouted, CaseReplied, CaseReferredToSupervisor, CaseAccepted, WorkStarted, WorkPaused, WorkResumed,
    CaseTransferred, CaseRejected, WorkCompleted, InspectionRecorded, SupervisorReviewed, ReturnVisitRecorded,
    CaseReopened, CaseCancelled, CaseMerged, CaseArchived, ProgressNoted, RepeatComplaintDetected,
    WarrantyDetermined, ViolationPenaltyRecorded, ReturnVisitAttempted, ReturnVisitClosed,
    ConsultationTaken, GroupComplaintResultReported, MailboxItemAcknowledged, ViolationStepTaken,
    ViolationPenaltySignedOff,
)
