"""Routing rules as data, and the default table of SPEC §3 "Dispatch defaults".

Rules are tried in order and the first whose conditions all hold decides; an empty
condition matches anything. An estate's own table is tried before the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from .case_facts import CaseFacts

DEPARTMENTS = ("customer_service", "engineering", "security", "cleaning", "greening", "estate_manager")
LEAST_LOADED, GRID_BUTLER = "least_loaded", "grid_butler"
NOTIFY_ROLES = ("estate_manager", "supervisor", "general_manager")
DEFAULT_MAX_BOUNCES = 3


@dataclass(frozen=True)
class Target:
    """A department the case goes to, and how many of its staff to assign."""

    department: str
    staff: int = 1
    assign: str = LEAST_LOADED


@dataclass(frozen=True)
class TimeWindow:
    """Estate-local hours, [start, end); a window whose end is before its start spans midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class LocationCondition:
    """Holds when the case is at any of the listed places."""

    buildings: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    public_area: bool | None = None

    def holds(self, case: CaseFacts) -> bool:
        return (case.building in self.buildings
                or case.area in self.areas
                or (self.public_area is not None and self.public_area == case.is_public_area))


@dataclass(frozen=True)
class Rule:
    rule_id: str
    targets: tuple[Target, ...]
    types: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    location: LocationCondition | None = None
    hours: TimeWindow | None = None
    keywords: tuple[str, ...] = ()
    priority: str | None = None  # None keeps the priority intake derived
    notify: tuple[str, ...] = ()

    def matches(self, case: CaseFacts, local_time: time) -> bool:
        return (_allows(self.types, case.type)
                and _allows(self.categories, case.category)
                and _allows(self.scopes, case.scope)
                and _allows(self.severities, case.severity)
                and (self.location is None or self.location.holds(case))
                and (self.hours is None or self.hours.contains(local_time))
                and (not self.keywords or any(k.casefold() in case.text.casefold() for k in self.keywords)))


@dataclass(frozen=True)
class RuleTable:
    source: str  # "estate" or "default": which table a decision's rule came from
    version: int
    rules: tuple[Rule, ...]
    max_bounces: int = DEFAULT_MAX_BOUNCES


def _allows(accepted: frozenset[str], value: str | None) -> bool:
    return not accepted or value in accepted


def _rule(rule_id: str, *targets: Target, types: str = "", categories: str = "", severity: str = "",
          priority: str | None = None) -> Rule:
    return Rule(rule_id, targets, types=frozenset(types.split()), categories=frozenset(categories.split()),
                severities=frozenset(severity.split()), priority=priority)


_SECURITY, _ENGINEERING, _DESK = Target("security"), Target("engineering"), Target("customer_service")
FEE_CATEGORIES = "fee fees charges billing property_fee parking_fee"

DEFAULT_TABLE = RuleTable("default", 1, (
    _rule("help-medical", Target("security", staff=2), _DESK, types="help", categories="medical",
          priority="urgent"),
    _rule("help-security-incident", _SECURITY, types="help", categories="security_incident", priority="urgent"),
    _rule("help-disaster", _SECURITY, _ENGINEERING, types="help", categories="disaster", priority="urgent"),
    _rule("violation-major", Target("estate_manager"), types="violation", severity="major"),
    # a violation without a severity is treated as general: the butler sees it first and can escalate
    _rule("violation-general", Target("customer_service", assign=GRID_BUTLER), types="violation"),
    _rule("repair", _ENGINEERING, types="repair"),
    _rule("fee-matters", _DESK, categories=FEE_CATEGORIES),
    _rule("complaint-environment", Target("cleaning"), types="complaint",
          categories="environment cleaning sanitation hygiene"),
    _rule("complaint-greenery", Target("greening"), types="complaint", categories="greenery greening landscaping"),
    _rule("complaint-other", _DESK, types="complaint"),
    _rule("consultation", _DESK, types="consultation"),
    _rule("suggestion", _DESK, types="suggestion"),
    _rule("help-other", _DESK, types="help"),
))
