"""Dispatch's domain: rules as data, assignment, working state. Pure: no I/O, time is passed in."""
from .case_facts import CaseFacts
from .decision import DispatchDecision
from .estate import EstateDirectory
from .policy import RuleTableError, parse_rule_table
from .routing import CaseArrived, CaseBounced, Routed, decide
from .rules import DEFAULT_TABLE, RuleTable
from .state import DispatchState, apply_decision, release_case

__all__ = [
    "CaseArrived", "CaseBounced", "CaseFacts", "DEFAULT_TABLE", "DispatchDecision", "DispatchState",
    "EstateDirectory", "Routed", "RuleTable", "RuleTableError", "apply_decision", "decide",
    "parse_rule_table", "release_case",
]
