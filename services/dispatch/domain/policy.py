"""Parsing an estate's dispatch rule table from plain JSON data (the policy endpoint's body).

Every problem is reported, each with the path of the offending field, so the endpoint can
answer 422 with field-level messages.
"""
from __future__ import annotations

from typing import Any

from .policy_fields import Errors, hours, is_int, location, names
from .rules import DEFAULT_MAX_BOUNCES, DEPARTMENTS, GRID_BUTLER, LEAST_LOADED, NOTIFY_ROLES, Rule, RuleTable, Target

CASE_TYPES = ("consultation", "suggestion", "help", "complaint", "repair", "violation")
SCOPES = ("public_area", "in_home")
SEVERITIES = ("general", "major")
PRIORITIES = ("normal", "urgent")
MAX_STAFF_PER_TARGET = 10
_RULE_KEYS = {"id", "when", "route", "priority", "notify"}
_WHEN_KEYS = {"type", "category", "scope", "severity", "location", "hours", "keywords"}


class RuleTableError(ValueError):
    def __init__(self, errors: Errors):
        self.errors = errors  # (field path, message)
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def parse_rule_table(data: Any) -> RuleTable:
    """The estate's RuleTable, or RuleTableError listing every problem found."""
    errors: Errors = []
    if not isinstance(data, dict):
        raise RuleTableError([("", "must be an object with 'version' and 'rules'")])
    errors += [(key, "unknown field") for key in data if key not in {"version", "max_bounces", "rules"}]
    version = data.get("version")
    if not is_int(version) or version < 1:
        errors.append(("version", "must be a positive integer"))
    max_bounces = data.get("max_bounces", DEFAULT_MAX_BOUNCES)
    if not is_int(max_bounces) or max_bounces < 0:
        errors.append(("max_bounces", "must be a non-negative integer"))
    raw_rules = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list):
        errors.append(("rules", "must be a list"))
    else:
        for index, raw in enumerate(raw_rules):
            rule = _rule(raw, f"rules[{index}]", errors)
            if rule and any(r.rule_id == rule.rule_id for r in rules):
                errors.append((f"rules[{index}].id", f"duplicate rule id {rule.rule_id!r}"))
            elif rule:
                rules.append(rule)
    if errors:
        raise RuleTableError(errors)
    return RuleTable("estate", version, tuple(rules), max_bounces)


def _rule(raw: Any, path: str, errors: Errors) -> Rule | None:
    if not isinstance(raw, dict):
        errors.append((path, "must be an object"))
        return None
    before = len(errors)
    errors += [(f"{path}.{key}", "unknown field") for key in raw if key not in _RULE_KEYS]
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        errors.append((f"{path}.id", "must be a non-empty string"))
    when = raw.get("when", {})
    if not isinstance(when, dict):
        errors.append((f"{path}.when", "must be an object"))
        when = {}
    errors += [(f"{path}.when.{key}", "unknown condition") for key in when if key not in _WHEN_KEYS]
    conditions = {
        "types": names(when.get("type"), f"{path}.when.type", errors, CASE_TYPES),
        "categories": names(when.get("category"), f"{path}.when.category", errors),
        "scopes": names(when.get("scope"), f"{path}.when.scope", errors, SCOPES),
        "severities": names(when.get("severity"), f"{path}.when.severity", errors, SEVERITIES),
        "location": location(when.get("location"), f"{path}.when.location", errors),
        "hours": hours(when.get("hours"), f"{path}.when.hours", errors),
        "keywords": tuple(sorted(names(when.get("keywords"), f"{path}.when.keywords", errors))),
    }
    targets = _targets(raw.get("route"), f"{path}.route", errors)
    priority = raw.get("priority")
    if priority is not None and priority not in PRIORITIES:
        errors.append((f"{path}.priority", f"must be one of {', '.join(PRIORITIES)}"))
    notify = names(raw.get("notify"), f"{path}.notify", errors, NOTIFY_ROLES)
    if len(errors) > before:
        return None
    return Rule(rule_id, targets, priority=priority, notify=tuple(sorted(notify)), **conditions)


def _targets(raw: Any, path: str, errors: Errors) -> tuple[Target, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append((path, "must be a non-empty list of {department, staff, assign}"))
        return ()
    targets = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, dict) or item.get("department") not in DEPARTMENTS:
            errors.append((f"{where}.department", f"must be one of {', '.join(DEPARTMENTS)}"))
            continue
        errors += [(f"{where}.{key}", "unknown field") for key in item if key not in {"department", "staff", "assign"}]
        staff, assign = item.get("staff", 1), item.get("assign", LEAST_LOADED)
        if not is_int(staff) or not 1 <= staff <= MAX_STAFF_PER_TARGET:
            errors.append((f"{where}.staff", f"must be an integer from 1 to {MAX_STAFF_PER_TARGET}"))
        if assign not in (LEAST_LOADED, GRID_BUTLER):
            errors.append((f"{where}.assign", f"must be {LEAST_LOADED!r} or {GRID_BUTLER!r}"))
        elif assign == GRID_BUTLER and staff != 1:
            errors.append((f"{where}.staff", "a location has one grid butler"))
        if item["department"] in (t.department for t in targets):
            errors.append((f"{where}.department", f"{item['department']!r} is already routed by this rule"))
        targets.append(Target(item["department"], staff if is_int(staff) else 1, assign))
    return tuple(targets)
