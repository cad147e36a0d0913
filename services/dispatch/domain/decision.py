"""A dispatch decision: what was decided, by which rule, and its wire payload.

Successful decisions travel as CaseDispatched, failed ones as DispatchFailed; both carry the
extra fields the contract's payload classes do not have yet (assignees, staff_needed, notify…).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Mapping

SUPERVISOR_ROLE = "customer_service_supervisor"


@dataclass(frozen=True)
class DispatchDecision:
    case_id: str
    estate_id: str
    cause_id: str
    decided_at: datetime
    dispatched: bool
    departments: tuple[str, ...] = ()
    assignees: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    staff_needed: Mapping[str, int] = field(default_factory=dict)
    assignee: str | None = None  # the first assignee, or the supervisor a failure went to
    coordinator: str | None = None
    priority: str = "normal"
    rule: str | None = None
    rule_table: str | None = None  # "estate", "default" or "transfer"
    rule_version: int | None = None
    notify: tuple[str, ...] = ()  # roles told at once
    notify_staff: tuple[str, ...] = ()
    avoided_departments: tuple[str, ...] = ()
    bounces: int = 0
    unstaffed: Mapping[str, str] = field(default_factory=dict)  # department -> why the supervisor holds it
    reason: str | None = None  # why dispatch failed
    rotation: Mapping[str, str] = field(default_factory=dict)  # department -> round-robin cursor after this

    @property
    def event_type(self) -> str:
        return "CaseDispatched" if self.dispatched else "DispatchFailed"

    def holders(self) -> frozenset[str]:
        """Staff whose open-case count includes this case while the decision stands."""
        people = {s for staff in self.assignees.values() for s in staff}
        return frozenset(people | ({self.assignee} if self.assignee else set()))

    def to_payload_dict(self) -> dict[str, Any]:
        """The JSON payload of the CaseDispatched or DispatchFailed event."""
        common = {
            "coordinator": self.coordinator, "assignee": self.assignee, "priority": self.priority,
            "rule": self.rule, "rule_version": self.rule_version, "rule_table": self.rule_table,
            "assignees": {d: list(s) for d, s in self.assignees.items()}, "staff_needed": dict(self.staff_needed),
            "notify": list(self.notify), "notify_staff": list(self.notify_staff),
            "avoided_departments": list(self.avoided_departments), "bounces": self.bounces,
            "unstaffed": dict(self.unstaffed),
        }
        at = self.decided_at.isoformat()
        if self.dispatched:
            return {"departments": list(self.departments), **common, "dispatched_at": at}
        return {"reason": self.reason, "routed_to": SUPERVISOR_ROLE, **common, "failed_at": at}

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(decided_at=self.decided_at.isoformat(), departments=list(self.departments),
                    assignees={d: list(s) for d, s in self.assignees.items()}, staff_needed=dict(self.staff_needed),
                    notify=list(self.notify), notify_staff=list(self.notify_staff),
                    avoided_departments=list(self.avoided_departments), unstaffed=dict(self.unstaffed),
                    rotation=dict(self.rotation))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DispatchDecision":
        return cls(**{
            **data,
            "decided_at": datetime.fromisoformat(data["decided_at"]),
            "departments": tuple(data["departments"]),
            "assignees": {d: tuple(s) for d, s in data["assignees"].items()},
            "notify": tuple(data["notify"]), "notify_staff": tuple(data["notify_staff"]),
            "avoided_departments": tuple(data["avoided_departments"]),
        })
