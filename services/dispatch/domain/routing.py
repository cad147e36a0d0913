"""Deciding where a received case goes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from estatedesk.contracts.events import CaseDispatched, DispatchFailed

from .rules import DEFAULT_RULES, DEFAULT_RULES_VERSION, Rule


@dataclass(frozen=True)
class RuleTable:
    version: int
    rules: tuple[Rule, ...]


DEFAULT_TABLE = RuleTable(DEFAULT_RULES_VERSION, DEFAULT_RULES)


def decide(case: dict, table: RuleTable, now: datetime) -> CaseDispatched | DispatchFailed:
    """The dispatch decision for a CaseReceived payload; never silently drops a case."""
    for rule in table.rules:
        if rule.matches(case):
            urgent = rule.priority == "urgent" or case.get("priority") == "urgent"
            return CaseDispatched(
                departments=list(rule.departments),
                priority="urgent" if urgent else "normal",
                rule=rule.rule_id,
                rule_version=table.version,
                dispatched_at=now,
            )
    return DispatchFailed(reason=f"no routing rule matches type {case.get('type')!r}", failed_at=now)
