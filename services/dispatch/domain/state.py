"""Dispatch's working state as a pure, JSON-serialisable value.

Every change names the event that caused it; a cause already applied changes nothing, so a
redelivered event can neither decide twice nor release a case twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .case_facts import CaseFacts
from .decision import DispatchDecision

RELEASED = -1  # cause marker: the cause released the case rather than deciding


@dataclass(frozen=True)
class CaseRecord:
    estate_id: str
    facts: CaseFacts | None = None
    decisions: tuple[DispatchDecision, ...] = ()
    holders: tuple[str, ...] = ()  # staff whose open-case count includes this case
    causes: Mapping[str, int] = field(default_factory=dict)  # cause id -> index of its decision, or RELEASED

    @property
    def latest(self) -> DispatchDecision | None:
        return self.decisions[-1] if self.decisions else None

    def to_dict(self) -> dict[str, Any]:
        return {"estate_id": self.estate_id, "facts": self.facts.to_dict() if self.facts else None,
                "decisions": [d.to_dict() for d in self.decisions], "holders": list(self.holders),
                "causes": dict(self.causes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CaseRecord":
        return cls(data["estate_id"], CaseFacts.from_dict(data["facts"]) if data["facts"] else None,
                   tuple(DispatchDecision.from_dict(d) for d in data["decisions"]),
                   tuple(data["holders"]), dict(data["causes"]))


@dataclass(frozen=True)
class DispatchState:
    open_cases: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # estate -> staff -> count
    cursors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # estate -> department -> staff
    cases: Mapping[str, CaseRecord] = field(default_factory=dict)

    def load(self, estate_id: str) -> Mapping[str, int]:
        return self.open_cases.get(estate_id, {})

    def cursor(self, estate_id: str, department: str) -> str | None:
        return self.cursors.get(estate_id, {}).get(department)

    def record(self, case_id: str) -> CaseRecord | None:
        return self.cases.get(case_id)

    def decision_for(self, case_id: str, cause_id: str) -> DispatchDecision | None:
        """The decision a cause already produced, if it was applied before."""
        record = self.cases.get(case_id)
        index = record.causes.get(cause_id) if record else None
        return record.decisions[index] if index is not None and index != RELEASED else None

    def has_applied(self, case_id: str, cause_id: str) -> bool:
        record = self.cases.get(case_id)
        return bool(record and cause_id in record.causes)

    def to_dict(self) -> dict[str, Any]:
        return {"open_cases": {e: dict(c) for e, c in self.open_cases.items()},
                "cursors": {e: dict(c) for e, c in self.cursors.items()},
                "cases": {case_id: r.to_dict() for case_id, r in self.cases.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DispatchState":
        return cls({e: dict(c) for e, c in data.get("open_cases", {}).items()},
                   {e: dict(c) for e, c in data.get("cursors", {}).items()},
                   {case_id: CaseRecord.from_dict(r) for case_id, r in data.get("cases", {}).items()})


def remember_case(state: DispatchState, facts: CaseFacts) -> DispatchState:
    """Keep what re-routing the case later needs to know."""
    record = state.cases.get(facts.case_id) or CaseRecord(facts.estate_id)
    return replace(state, cases={**state.cases, facts.case_id: replace(record, facts=facts)})


def apply_decision(state: DispatchState, decision: DispatchDecision) -> DispatchState:
    """The state once `decision` stands: it replaces the case's previous assignees in the counts."""
    if state.has_applied(decision.case_id, decision.cause_id):
        return state
    record = state.cases.get(decision.case_id) or CaseRecord(decision.estate_id)
    holders = tuple(sorted(decision.holders()))
    counts = _shift(state.load(decision.estate_id), released=record.holders, taken=holders)
    cursors = {**state.cursors.get(decision.estate_id, {}), **decision.rotation}
    record = replace(record, decisions=(*record.decisions, decision), holders=holders,
                     causes={**record.causes, decision.cause_id: len(record.decisions)})
    return DispatchState({**state.open_cases, decision.estate_id: counts},
                         {**state.cursors, decision.estate_id: cursors},
                         {**state.cases, decision.case_id: record})


def release_case(state: DispatchState, case_id: str, cause_id: str) -> DispatchState:
    """The state once the case no longer loads its assignees: completed, cancelled, merged or archived."""
    record = state.cases.get(case_id)
    if record is None or cause_id in record.causes:
        return state
    counts = _shift(state.load(record.estate_id), released=record.holders, taken=())
    record = replace(record, holders=(), causes={**record.causes, cause_id: RELEASED})
    return replace(state, open_cases={**state.open_cases, record.estate_id: counts},
                   cases={**state.cases, case_id: record})


def _shift(counts: Mapping[str, int], released: tuple[str, ...], taken: tuple[str, ...]) -> dict[str, int]:
    shifted = dict(counts)
    for staff in released:
        shifted[staff] = max(shifted.get(staff, 0) - 1, 0)
    for staff in taken:
        shifted[staff] = shifted.get(staff, 0) + 1
    return {staff: n for staff, n in shifted.items() if n}
