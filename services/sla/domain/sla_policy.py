"""SLA policies as data (SPEC §3 "Default service rules"): what starts a clock, what meets
it, its target, its clock, whether waiting on the resident pauses it, when to warn, and
who is told when it slips. Estates override rules by name through the policy endpoint;
a case is judged by the version in force when it was received.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from estatedesk.lifecycle import MAILBOX_ROLE

from .working_time import OfficialCalendar, WorkingCalendar

EMERGENCIES = frozenset({"medical", "security_incident", "disaster"})
EVERY_TYPE = frozenset({"consultation", "suggestion", "help", "complaint", "repair", "violation"})
CLOSING = frozenset({"CaseCancelled", "CaseMerged", "CaseArchived"})
MILESTONES: dict[str, str] = {
    "received": "CaseReceived", "dispatched": "CaseDispatched", "accepted": "CaseAccepted",
    "started": "WorkStarted", "replied": "CaseReplied", "progress_noted": "ProgressNoted",
    "completed": "WorkCompleted", "inspected": "InspectionRecorded", "reviewed": "SupervisorReviewed",
    "visited": "ReturnVisitRecorded", "reopened": "CaseReopened",
}
"""What an estate's own rule may start on and be met by, in the words of the lifecycle."""


@dataclass(frozen=True)
class Escalation:
    level: int
    to_role: str
    after: timedelta = timedelta(0)  # after the breach
    reason: str = ""


@dataclass(frozen=True)
class ClockRule:
    rule: str
    case_types: frozenset[str]
    starts_on: frozenset[str]
    met_by: frozenset[str]
    target: timedelta
    clock: str = "24x7"  # or "business_hours"
    pausable: bool = False
    warn_at: float | None = 0.8
    escalations: tuple[Escalation, ...] = ()
    met_by_department: str | None = None
    scope: str | None = None
    origins: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    working_days: int = 0  # target in working days of the estate's calendar, instead of `target`
    enabled: bool = True
    started_by_escalation_to: str | None = None  # started when this engine escalates a case to that role
    # (event type, payload field, values): a starting or meeting event of that type must carry one of them
    starts_if: tuple[tuple[str, str, frozenset], ...] = ()
    met_if: tuple[tuple[str, str, frozenset], ...] = ()
    deadline_from: str | None = None  # the starting event's payload field that sets the due time, not `target`

    def applies_to(self, case: dict) -> bool:
        return (self.enabled and case["type"] in self.case_types
                and (self.scope is None or (case.get("repair") or {}).get("scope") == self.scope)
                and (not self.origins or (case.get("complaint") or {}).get("origin", "resident") in self.origins)
                and (not self.categories or case.get("category") in self.categories))


@dataclass(frozen=True)
class InstantEscalation:
    """Told at once when an event happens: serious emergencies, repeat complaints."""

    name: str
    on: str
    level: int
    to_role: str
    reason: str
    serious_emergency_only: bool = False


# An attempt that missed the resident is the visit made on time; the retry clock owes the next.
VISIT_SETTLED = frozenset({"ReturnVisitRecorded", "ReturnVisitAttempted", "ReturnVisitClosed"})
SUPERVISOR_THEN_UP = (Escalation(1, "supervisor", reason="deadline missed"),
                      Escalation(2, "estate_manager", timedelta(hours=4), "still open 4 h after the deadline"),
                      Escalation(3, "general_manager", timedelta(hours=24), "still open a day after the deadline"))

DEFAULT_RULES: tuple[ClockRule, ...] = (
    ClockRule("engineering_notified", frozenset({"repair"}), frozenset({"CaseReceived"}),
              frozenset({"CaseDispatched"}), timedelta(minutes=5), scope="in_home",
              met_by_department="engineering", escalations=SUPERVISOR_THEN_UP[:1]),
    ClockRule("help_replied", frozenset({"help"}), frozenset({"CaseReceived"}),
              frozenset({"CaseReplied", "CaseAccepted"}), timedelta(minutes=10), escalations=SUPERVISOR_THEN_UP[:1]),
    ClockRule("complaint_completed", frozenset({"complaint"}), frozenset({"CaseReceived", "CaseReopened"}),
              frozenset({"WorkCompleted"}), timedelta(hours=24), pausable=True,
              escalations=(Escalation(1, "supervisor", reason="complaint file card opened (投诉处理档案卡)"),
                           *SUPERVISOR_THEN_UP[1:])),
    ClockRule("group_progress_reported", frozenset({"complaint"}), frozenset({"CaseReceived", "ProgressNoted"}),
              frozenset({"ProgressNoted", "WorkCompleted"}), timedelta(hours=24),
              origins=frozenset({"group_center", "quality_office"}),
              escalations=(Escalation(1, "supervisor", reason="progress owed to the group register"),)),
    # violations get no satisfaction visit (000 §1)
    ClockRule("return_visit_made", frozenset({"repair", "complaint", "help"}),
              frozenset({"WorkCompleted"}), VISIT_SETTLED, timedelta(0), clock="business_hours",
              working_days=1, escalations=(Escalation(1, "supervisor", reason="return visit overdue"),)),
    # 003 §4.1 2) A: the quick reply holds for consultations as for help requests
    ClockRule("consultation_replied", frozenset({"consultation"}), frozenset({"CaseReceived"}),
              frozenset({"CaseReplied"}), timedelta(minutes=10), escalations=SUPERVISOR_THEN_UP[:1]),
    # an emergency nobody takes on climbs the ladder minute by minute until someone accepts it
    ClockRule("emergency_accepted", frozenset({"help"}), frozenset({"CaseReceived"}), frozenset({"CaseAccepted"}),
              timedelta(minutes=5), categories=EMERGENCIES, warn_at=None,
              escalations=(Escalation(1, "supervisor", reason="emergency not accepted within 5 minutes"),
                           Escalation(2, "estate_manager", timedelta(minutes=5), "emergency still not accepted"),
                           Escalation(3, "general_manager", timedelta(minutes=15),
                                      "emergency unaccepted 20 minutes after the call"))),
    # a written notice or a reminder letter gives the resident a deadline; missed, the next step is owed
    ClockRule("violation_rectified", frozenset({"violation"}), frozenset({"ViolationStepTaken"}),
              frozenset({"ViolationStepTaken", "WorkCompleted"}), timedelta(0), warn_at=None,
              starts_if=(("ViolationStepTaken", "step", frozenset({"written_notice", "reminder_letter"})),),
              met_if=(("ViolationStepTaken", "step", frozenset({"compensation", "public_notice", "referral", "late_fee",
                                                                "lawyer_letter", "public_posting", "service_suspended",
                                                                "arbitration"})),),
              deadline_from="rectify_by",
              escalations=(Escalation(1, "supervisor", reason="rectification deadline passed: the next step is owed"),)),
    # a resident not reached is tried again within a working day, until reached or the visit is closed
    ClockRule("return_visit_retried", frozenset({"repair", "complaint", "help", "violation", "consultation",
                                                 "suggestion"}),
              frozenset({"ReturnVisitAttempted"}), VISIT_SETTLED, timedelta(0), clock="business_hours",
              working_days=1, escalations=(Escalation(1, "supervisor", reason="resident unreachable: retry overdue"),)),
    # what reaches the general manager's mailbox is read within a working day, or the group is told
    ClockRule("mailbox_acknowledged", EVERY_TYPE, frozenset(), frozenset({"MailboxItemAcknowledged"}),
              timedelta(0), clock="business_hours", working_days=1, warn_at=None,
              started_by_escalation_to=MAILBOX_ROLE,
              escalations=(Escalation(1, "group_service_center",
                                      reason="unacknowledged in the general manager's mailbox (总经理信箱)"),)),
)
DEFAULT_INSTANT: tuple[InstantEscalation, ...] = (
    InstantEscalation("serious_emergency", "CaseReceived", 1, "estate_manager",
                      "serious emergency: estate manager told at once", serious_emergency_only=True),
    InstantEscalation("repeat_complaint", "RepeatComplaintDetected", 2, MAILBOX_ROLE,
                      "second complaint on the same matter: general manager's mailbox (总经理信箱)"),
)


@dataclass(frozen=True)
class SlaPolicy:
    version: int = 0
    effective_from: datetime | None = None
    rules: tuple[ClockRule, ...] = DEFAULT_RULES
    instant: tuple[InstantEscalation, ...] = DEFAULT_INSTANT
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def rule(self, name: str) -> ClockRule:
        return next(r for r in self.rules if r.rule == name)


def policy_from(version: int, effective_from: datetime, block: dict[str, Any] | None, timezone: str,
                official: OfficialCalendar = OfficialCalendar()) -> SlaPolicy:
    """The defaults overridden by an estate's `sla` policy block, working days by the tables
    the group admin loaded (`official`), e.g.
    {"calendar": {"spans": [["08:30", "17:30"]]}, "rules": {"complaint_completed": {"target_minutes": 720,
     "clock": "business_hours", "warn_at": 0.5, "escalations": [{"to_role": "supervisor", "after_minutes": 0}]}}}."""
    block = block or {}
    calendar = WorkingCalendar(timezone=timezone, spans=tuple(tuple(s) for s in
                                                              (block.get("calendar") or {}).get("spans", [])) or
                               WorkingCalendar.spans, official=official)
    overrides = block.get("rules") or {}
    rules = tuple(_override(r, overrides[r.rule]) if r.rule in overrides else r for r in DEFAULT_RULES)
    own = tuple(_own_rule(o) for o in block.get("custom_rules") or [])
    return SlaPolicy(version, effective_from, rules + own, DEFAULT_INSTANT, calendar)


def _own_rule(o: dict[str, Any]) -> ClockRule:
    """An estate's own rule, e.g. {"name": "public_repair_resolved", "case_types": ["repair"],
    "scope": "public_area", "starts_on": ["received"], "met_by": ["completed"], "target_minutes": 1440}.
    A target in working days runs on the estate's working hours."""
    working_days = o.get("working_days") or 0
    rule = ClockRule(o["name"], frozenset(o["case_types"]), frozenset(MILESTONES[m] for m in o["starts_on"]),
                     frozenset(MILESTONES[m] for m in o["met_by"]), timedelta(minutes=o.get("target_minutes") or 0),
                     clock="business_hours" if working_days else o.get("clock", "24x7"),
                     scope=o.get("scope"), categories=frozenset(o.get("categories") or ()),
                     working_days=working_days, escalations=SUPERVISOR_THEN_UP[:1])
    return _override(rule, {k: v for k, v in o.items() if k in ("warn_at", "pausable", "escalations")
                            and v is not None})


def _override(rule: ClockRule, o: dict[str, Any]) -> ClockRule:
    changes: dict[str, Any] = {}
    if "target_minutes" in o:
        changes.update(target=timedelta(minutes=o["target_minutes"]), working_days=0)
    for key in ("clock", "warn_at", "pausable", "enabled", "working_days"):
        if key in o:
            changes[key] = o[key]
    if "escalations" in o:
        changes["escalations"] = tuple(Escalation(i + 1, e["to_role"], timedelta(minutes=e.get("after_minutes", 0)),
                                                  e.get("reason", "")) for i, e in enumerate(o["escalations"]))
    return replace(rule, **changes)


def _own_rule_problems(own: Any, built_in: set[str]) -> list[tuple[str, str]]:
    """What would stop the SLA engine from running an estate's own rules."""
    if not isinstance(own, list):
        return [("custom_rules", "must be a list of rules")]
    errors, names = [], [o.get("name") for o in own if isinstance(o, dict)]
    for i, o in enumerate(own):
        if not isinstance(o, dict) or not o.get("name"):
            errors.append((f"custom_rules.{i}.name", "is required"))
            continue
        if o["name"] in built_in:
            errors.append((f"custom_rules.{i}.name", "is a built-in rule; tune it under rules instead"))
        if names.count(o["name"]) > 1:
            errors.append((f"custom_rules.{i}.name", "names another of the estate's rules too"))
        for key in ("starts_on", "met_by"):
            if not o.get(key) or any(m not in MILESTONES for m in o[key]):
                errors.append((f"custom_rules.{i}.{key}", f"must list milestones of {', '.join(MILESTONES)}"))
        if not o.get("case_types"):
            errors.append((f"custom_rules.{i}.case_types", "must name at least one case type"))
        if bool(o.get("target_minutes")) == bool(o.get("working_days")):
            errors.append((f"custom_rules.{i}.target_minutes", "give either target_minutes or working_days"))
    return errors


def validate_block(block: Any) -> list[tuple[str, str]]:
    """Field-level problems of an `sla` policy block (empty when it is usable)."""
    if not isinstance(block, dict):
        return [("", "must be an object")]
    errors = [(k, "unknown field") for k in block if k not in ("calendar", "rules", "custom_rules")]
    known = {r.rule for r in DEFAULT_RULES}
    rules = block.get("rules") or {}
    if not isinstance(rules, dict):
        return [*errors, ("rules", "must be an object of rule name to settings")]
    for name, o in rules.items():
        if not isinstance(o, dict):
            errors.append((f"rules.{name}", "must be an object"))
            continue
        if name not in known:
            errors.append((f"rules.{name}", f"unknown rule; one of {', '.join(sorted(known))}"))
            continue
        if "target_minutes" in o and (not isinstance(o["target_minutes"], int) or o["target_minutes"] < 0):
            errors.append((f"rules.{name}.target_minutes", "must be a whole number of minutes, not negative"))
        if o.get("clock", "24x7") not in ("24x7", "business_hours"):
            errors.append((f"rules.{name}.clock", "must be 24x7 or business_hours"))
        if "warn_at" in o and o["warn_at"] is not None and (
                not isinstance(o["warn_at"], (int, float)) or not (0 < o["warn_at"] < 1)):
            errors.append((f"rules.{name}.warn_at", "must be between 0 and 1"))
        for i, e in enumerate(o.get("escalations") or []):
            if not isinstance(e, dict) or not e.get("to_role"):
                errors.append((f"rules.{name}.escalations[{i}].to_role", "is required"))
    errors += _own_rule_problems(block.get("custom_rules") or [], known)
    calendar = block.get("calendar") or {}
    if not isinstance(calendar, dict) or not isinstance(calendar.get("spans", []), list):
        return [*errors, ("calendar", "must be an object with a list of spans")]
    for i, span in enumerate(calendar.get("spans", [])):
        try:
            WorkingCalendar(spans=(tuple(span),)).working_day
        except (TypeError, ValueError):
            errors.append((f"calendar.spans[{i}]", "must be [\"HH:MM\", \"HH:MM\"]"))
    return errors
