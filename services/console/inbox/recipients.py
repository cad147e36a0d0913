"""Who an SLA or dispatch event notifies: pure, given the estate's staff list and the accounts
that hold a role there today.

- `EscalationRaised`: the holders of its `to_role` (staff listed under that role in the
  estate's set-up, and enabled accounts with that role for the estate).
- `SlaWarning`: the supervisors, who chase a deadline before it slips.
- `CaseDispatched`: its assignee (and the staff it names to notify).
"""
from __future__ import annotations

NOTIFYING = frozenset({"EscalationRaised", "SlaWarning", "CaseDispatched"})
WARNING_ROLE = "supervisor"


def role_of(event_type: str, payload: dict) -> str | None:
    if event_type == "EscalationRaised":
        return payload.get("to_role")
    if event_type == "SlaWarning":
        return WARNING_ROLE
    return None


def recipients(event_type: str, payload: dict, staff: dict[str, list[str]], role_holders: list[str]) -> list[str]:
    if event_type not in NOTIFYING:
        return []
    if event_type == "CaseDispatched":
        people = [payload.get("assignee"), *(payload.get("notify_staff") or [])]
    else:
        role = role_of(event_type, payload)
        people = [*(staff.get(role or "", []) if role else []), *role_holders]
    seen: list[str] = []
    for person in people:
        if person and person not in seen:
            seen.append(person)
    return seen


def summary(event_type: str, payload: dict) -> dict:
    keep = ("level", "to_role", "reason", "rule", "due_at", "departments", "assignee", "raised_at", "warned_at")
    return {k: payload[k] for k in keep if payload.get(k) is not None}
