"""Payload classes, one per event type, and the registry that maps wire names to them.

Wire names are the class names and never change; a breaking change gets a new
`schema_version` and an upcaster in `UPCASTERS`, so old messages stay readable.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from estatedesk.inputs import Input, Line

from .case_blocks import ComplaintBlock, HelpBlock, RepairBlock, ViolationBlock
from .envelope import Envelope

CASE_EVENTS = "case-events"
DISPATCH_EVENTS = "dispatch-events"
SLA_EVENTS = "sla-events"
BILLING_EVENTS = "billing-events"
TOPICS = (CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS, BILLING_EVENTS)


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__


_Place = Annotated[Line, Field(min_length=1, max_length=64)]


class Location(Input):
    """Where the case is: a building (with unit and room for a home) or a public area."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    building: _Place | None = None
    unit: _Place | None = None
    room: _Place | None = None
    area: _Place | None = None


class ReporterRef(BaseModel):
    """What travels on Kafka about the reporter: no name, no full phone (SPEC §7)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    household_id: str | None = None
    phone_masked: str | None = None


class CaseReceived(Payload):
    type: str
    category: str | None = None
    channel: str
    title: str
    description: str = ""
    location: Location
    reporter: ReporterRef
    received_at: datetime
    priority: Literal["normal", "urgent"] = "normal"
    repair: RepairBlock | None = None
    complaint: ComplaintBlock | None = None
    help: HelpBlock | None = None
    violation: ViolationBlock | None = None
    received_by: str | None = None  # the user who logged it (None in events stored before it was kept)
    received_by_role: str | None = None


class _Routing(Payload):
    """What both dispatch outcomes say about who holds the case and why."""

    coordinator: str | None = None
    assignee: str | None = None
    priority: Literal["normal", "urgent"] = "normal"
    rule: str | None = None
    rule_version: int | None = None
    rule_table: str | None = None
    assignees: dict[str, list[str]] = {}
    staff_needed: dict[str, int] = {}
    notify: list[str] = []
    notify_staff: list[str] = []
    avoided_departments: list[str] = []
    bounces: int = 0
    unstaffed: dict[str, str] = {}


class CaseDispatched(_Routing):
    departments: list[str]
    dispatched_at: datetime


class DispatchFailed(_Routing):
    reason: str
    routed_to: str = "customer_service_supervisor"
    failed_at: datetime


class SlaClockStarted(Payload):
    obligation_id: str
    rule: str
    started_at: datetime
    due_at: datetime
    policy_version: int | None = None


class SlaClockPaused(Payload):
    """The clock stopped while the case waits on the resident."""

    obligation_id: str
    rule: str
    paused_at: datetime


class SlaClockResumed(Payload):
    """The clock runs again; `due_at` moved by the time it stood still."""

    obligation_id: str
    rule: str
    resumed_at: datetime
    due_at: datetime


class SlaMet(Payload):
    obligation_id: str
    rule: str
    due_at: datetime
    met_at: datetime
    elapsed_seconds: float


class SlaBreached(Payload):
    obligation_id: str
    rule: str
    due_at: datetime
    breached_at: datetime


class SlaWarning(Payload):
    obligation_id: str
    rule: str
    due_at: datetime
    warned_at: datetime


class EscalationRaised(Payload):
    level: int
    to_role: str
    reason: str
    raised_at: datetime
    rule: str
    obligation_id: str | None = None


class DailyFeedbackReported(Payload):
    department: str
    day: date
    summary: str = ""
    reported_by: str


class DailyFeedbackMissed(Payload):
    department: str
    day: date
    due_at: datetime


class PersonalDataErased(Payload):
    """A resident's name and phone were erased on request (PIPL); the history stays."""

    household_id: str
    cases: int
    requested_by: str


class EstateConfigured(Payload):
    name: str
    timezone: str = "Asia/Shanghai"
    buildings: list[dict[str, Any]] = []
    grids: list[dict[str, Any]] = []
    staff: dict[str, list[str]] = {}


class FeeItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    name: str
    unit: str
    price_fen: int


class FeeScheduleSet(Payload):
    """A new version of an estate's price list for paid work (003 §4.9); a completion is
    priced by the version in force when the work is done."""

    version: int
    effective_from: datetime
    items: list[FeeItem]
    set_by: str


class EstatePolicySet(Payload):
    """A new version of an estate's rules; cases are judged by the version in force."""

    version: int
    effective_from: datetime
    dispatch: dict[str, Any] | None = None
    sla: dict[str, Any] | None = None
    warranty: dict[str, Any] | None = None
    complaints: dict[str, Any] | None = None
    set_by: str
    feedback: dict[str, Any] | None = None


class WorkingCalendarSet(Payload):
    """A new version of one year's official working calendar, loaded by the group admin; the
    newest version of a year replaces the table `chinese_calendar` ships for it."""

    year: int
    version: int = Field(description="Counts the versions of this year's table, from 1")
    holidays: list[date] = Field(description="Public holidays: not working days, whatever the weekday")
    working_days: list[date] = Field(description="Adjusted working days (调休): working days, whatever the weekday")
    set_by: str


_TOPIC_OF: dict[type[Payload], str] = {
    CaseReceived: CASE_EVENTS,
    CaseDispatched: DISPATCH_EVENTS,
    DispatchFailed: DISPATCH_EVENTS,
    SlaClockStarted: SLA_EVENTS,
    SlaClockPaused: SLA_EVENTS,
    SlaClockResumed: SLA_EVENTS,
    SlaMet: SLA_EVENTS,
    SlaBreached: SLA_EVENTS,
    SlaWarning: SLA_EVENTS,
    EscalationRaised: SLA_EVENTS,
    DailyFeedbackMissed: SLA_EVENTS,
    DailyFeedbackReported: "",
    PersonalDataErased: "",
    EstateConfigured: "",  # estate streams stay in the store; services read them there
    EstatePolicySet: "",
    FeeScheduleSet: "",
    WorkingCalendarSet: "",  # the group's calendar stream stays in the store too
}

def _register_lifecycle() -> None:
    from .case_events import CASE_LIFECYCLE_EVENTS, ChargeableWorkCompleted, ChargeVoided

    _TOPIC_OF.update({cls: CASE_EVENTS for cls in CASE_LIFECYCLE_EVENTS})
    _TOPIC_OF[ChargeableWorkCompleted] = BILLING_EVENTS
    _TOPIC_OF[ChargeVoided] = BILLING_EVENTS


_register_lifecycle()
EVENT_TYPES: dict[str, type[Payload]] = {cls.event_type(): cls for cls in _TOPIC_OF}

# (event_type, from_version) -> function turning that payload into the next version's.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}
CURRENT_VERSION: dict[str, int] = {name: 1 for name in EVENT_TYPES}


def _register_upcasters() -> None:
    from .case_events import inspection_v1_to_v2

    UPCASTERS[("InspectionRecorded", 1)] = inspection_v1_to_v2
    CURRENT_VERSION["InspectionRecorded"] = 2
    # version 2 added a door visit's duration, optional: a version 1 payload reads as it is
    UPCASTERS[("ReturnVisitRecorded", 1)] = dict
    CURRENT_VERSION["ReturnVisitRecorded"] = 2
    # version 2 added the household, location and fee schedule version, optional likewise
    UPCASTERS[("WorkCompleted", 1)] = dict  # its charge lines gained the item code and unit
    CURRENT_VERSION["WorkCompleted"] = 2
    UPCASTERS[("ChargeableWorkCompleted", 1)] = dict
    CURRENT_VERSION["ChargeableWorkCompleted"] = 2


_register_upcasters()


def topic_of(event_type: str) -> str:
    return _TOPIC_OF[EVENT_TYPES[event_type]]


def decode(envelope: Envelope) -> Payload:
    """The typed payload of an envelope, upcast to the current schema version."""
    cls = EVENT_TYPES[envelope.event_type]
    data, version = dict(envelope.payload), envelope.schema_version
    while version < CURRENT_VERSION[envelope.event_type]:
        data = UPCASTERS[(envelope.event_type, version)](data)
        version += 1
    return cls.model_validate(data)


def encode(payload: Payload) -> dict[str, Any]:
    return payload.model_dump(mode="json")
