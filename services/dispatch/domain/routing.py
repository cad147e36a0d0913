"""Deciding where a case goes: `decide` is the single entry point of dispatch's domain.

Pure: the estate, its rule table, the working state and the time are all passed in, and the
new state comes back with the decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .case_facts import CaseFacts
from .decision import DispatchDecision
from .estate import EstateDirectory
from .rules import DEFAULT_TABLE, GRID_BUTLER, Rule, RuleTable, Target
from .staffing import staff_targets
from .state import DispatchState, apply_decision, remember_case

TRANSFER = "transfer"


@dataclass(frozen=True)
class CaseArrived:
    """A CaseReceived event (its id is the cause id)."""

    cause_id: str
    case: CaseFacts

    @property
    def case_id(self) -> str:
        return self.case.case_id


@dataclass(frozen=True)
class CaseBounced:
    """A department rejected the case, or transferred it (to a named department if it said which)."""

    cause_id: str
    case_id: str
    department: str
    transfer_to: str | None = None


@dataclass(frozen=True)
class Routed:
    decision: DispatchDecision
    state: DispatchState
    redelivered: bool = False  # the cause was decided before; this is that same decision


def decide(cause: CaseArrived | CaseBounced, *, estate: EstateDirectory, estate_rules: RuleTable | None,
           state: DispatchState, now: datetime) -> Routed:
    case_id = cause.case_id
    earlier = state.decision_for(case_id, cause.cause_id)
    if earlier is not None:
        return Routed(earlier, state, redelivered=True)
    if isinstance(cause, CaseArrived):
        state = remember_case(state, cause.case)
    record = state.record(case_id)
    facts = record.facts if record else None
    plan = _Plan(cause, estate, estate_rules, state, now)
    if facts is None:
        decision = plan.failed(None, f"no dispatch record for case {case_id}; cannot re-route it")
    else:
        decision = plan.decide(facts)
    return Routed(decision, apply_decision(state, decision))


class _Plan:
    def __init__(self, cause, estate: EstateDirectory, estate_rules: RuleTable | None,
                 state: DispatchState, now: datetime):
        self.cause, self.estate, self.state, self.now = cause, estate, state, now
        self.tables = (estate_rules, DEFAULT_TABLE) if estate_rules else (DEFAULT_TABLE,)
        record = state.record(cause.case_id) if isinstance(cause, CaseBounced) else None
        self.previous = record.latest if record else None
        self.avoided: tuple[str, ...] = self.previous.avoided_departments if self.previous else ()
        self.bounces = self.previous.bounces if self.previous else 0
        if isinstance(cause, CaseBounced):
            self.bounces += 1
            if cause.department not in self.avoided:
                self.avoided = (*self.avoided, cause.department)

    def decide(self, facts: CaseFacts) -> DispatchDecision:
        limit = self.tables[0].max_bounces
        if self.bounces > limit:
            return self.failed(facts, f"bounced {self.bounces} times, more than the limit of {limit}")
        transfer_to = getattr(self.cause, "transfer_to", None)
        if transfer_to and transfer_to not in self.avoided:
            rule = Rule(TRANSFER, (Target(transfer_to),))
            return self.assigned(facts, rule, TRANSFER, self.tables[0].version, rule.targets)
        local_time = self.estate.local_time(self.now)
        for table in self.tables:
            for rule in table.rules:
                targets = tuple(t for t in rule.targets if t.department not in self.avoided)
                if targets and rule.matches(facts, local_time):
                    return self.assigned(facts, rule, table.source, table.version, targets)
        if self.avoided:
            return self.failed(facts, f"every department able to take it has refused it ({', '.join(self.avoided)})")
        return self.failed(facts, f"no routing rule matches type {facts.type!r}, category {facts.category!r}")

    def assigned(self, facts: CaseFacts, rule: Rule, source: str, version: int,
                 targets: tuple[Target, ...]) -> DispatchDecision:
        kept = {d: s for d, s in self.previous.assignees.items()
                if d not in self.previous.unstaffed} if self.previous else {}
        staffing = staff_targets(targets, facts, self.estate, self.state, kept)
        if staffing.first_assignee is None:
            reason = "; ".join(staffing.unstaffed.values())
            return self.failed(facts, reason, rule=rule.rule_id, rule_table=source, rule_version=version,
                               unstaffed=staffing.unstaffed)
        urgent = rule.priority == "urgent" or facts.priority == "urgent" or facts.is_emergency
        return DispatchDecision(
            **self._common(facts, rule.notify), dispatched=True,
            departments=tuple(t.department for t in targets), assignees=dict(staffing.assignees),
            staff_needed={t.department: t.staff for t in targets if t.assign != GRID_BUTLER},
            assignee=staffing.first_assignee,
            priority="urgent" if urgent else "normal", rule=rule.rule_id, rule_table=source,
            rule_version=version, unstaffed=staffing.unstaffed, rotation=staffing.rotation)

    def failed(self, facts: CaseFacts | None, reason: str, **rule_fields) -> DispatchDecision:
        urgent = facts is not None and (facts.priority == "urgent" or facts.is_emergency)
        return DispatchDecision(
            **self._common(facts, ()), dispatched=False, assignee=self.estate.supervisor, reason=reason,
            priority="urgent" if urgent else "normal",
            **{"rule_version": self.tables[0].version, **rule_fields})

    def _common(self, facts: CaseFacts | None, notify: tuple[str, ...]) -> dict:
        if facts is not None and facts.is_emergency and facts.serious:
            notify = (*notify, "estate_manager")
        notify = tuple(dict.fromkeys(notify))
        people = {"estate_manager": self.estate.estate_manager, "supervisor": self.estate.supervisor}
        return dict(case_id=self.cause.case_id, estate_id=self.estate.estate_id, cause_id=self.cause.cause_id,
                    decided_at=self.now, coordinator=self.estate.coordinator_for(facts) if facts else None,
                    notify=notify, notify_staff=tuple(p for role in notify if (p := people.get(role))),
                    avoided_departments=self.avoided, bounces=self.bounces)
