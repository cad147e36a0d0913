"""Which clocks an event starts and which it stops (SPEC §3 "Default service rules").

Only the rules the platform can already observe are here; each is data: the event that
starts the clock, the target, and the event that meets it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ObligationRule:
    rule: str
    target: timedelta
    case_type: str
    repair_scope: str | None = None
    met_by_department: str | None = None  # a CaseDispatched naming this department meets it


DEFAULT_OBLIGATIONS: tuple[ObligationRule, ...] = (
    ObligationRule("engineering_notified", timedelta(minutes=5), "repair",
                   repair_scope="in_home", met_by_department="engineering"),
)


@dataclass(frozen=True)
class Obligation:
    obligation_id: str
    case_id: str
    rule: str
    started_at: datetime
    due_at: datetime


def obligation_id(case_id: str, rule: str) -> str:
    return f"{case_id}/{rule}"


def opened_by(case_id: str, event_type: str, payload: dict,
              rules: tuple[ObligationRule, ...] = DEFAULT_OBLIGATIONS) -> list[Obligation]:
    if event_type != "CaseReceived":
        return []
    received_at = datetime.fromisoformat(payload["received_at"])
    scope = (payload.get("repair") or {}).get("scope")
    return [
        Obligation(obligation_id(case_id, r.rule), case_id, r.rule, received_at, received_at + r.target)
        for r in rules
        if r.case_type == payload["type"] and (r.repair_scope is None or r.repair_scope == scope)
    ]


def met_by(case_id: str, event_type: str, payload: dict,
           rules: tuple[ObligationRule, ...] = DEFAULT_OBLIGATIONS) -> list[str]:
    """Obligation ids this event satisfies (if they are open)."""
    if event_type != "CaseDispatched":
        return []
    departments = set(payload.get("departments", []))
    return [obligation_id(case_id, r.rule) for r in rules if r.met_by_department in departments]
