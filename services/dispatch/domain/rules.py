"""The default routing table of SPEC §3 "Dispatch defaults", as data.

Rules are tried in order; the first whose conditions all hold decides. An estate's own
table (set through the policy endpoint) is tried before these defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    rule_id: str
    departments: tuple[str, ...]
    type: str | None = None
    categories: frozenset[str] = frozenset()
    scope: str | None = None
    severity: str | None = None
    staff_needed: dict[str, int] = field(default_factory=dict)
    priority: str = "normal"

    def matches(self, case: dict) -> bool:
        if self.type and case.get("type") != self.type:
            return False
        if self.categories and case.get("category") not in self.categories:
            return False
        if self.scope and (case.get("repair") or {}).get("scope") != self.scope:
            return False
        if self.severity and (case.get("violation") or {}).get("severity") != self.severity:
            return False
        return True


DEFAULT_RULES_VERSION = 1
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("help-medical", ("security", "customer_service"), type="help",
         categories=frozenset({"medical"}), staff_needed={"security": 2}, priority="urgent"),
    Rule("help-security-incident", ("security",), type="help",
         categories=frozenset({"security_incident"}), priority="urgent"),
    Rule("help-disaster", ("security", "engineering"), type="help",
         categories=frozenset({"disaster"}), priority="urgent"),
    Rule("help-other", ("customer_service",), type="help"),
    Rule("repair", ("engineering",), type="repair"),
    Rule("complaint-environment", ("cleaning",), type="complaint",
         categories=frozenset({"environment", "cleaning", "sanitation"})),
    Rule("complaint-greenery", ("greening",), type="complaint", categories=frozenset({"greenery", "greening"})),
    Rule("complaint-other", ("customer_service",), type="complaint"),
    Rule("consultation", ("customer_service",), type="consultation"),
    Rule("suggestion", ("customer_service",), type="suggestion"),
    Rule("violation-major", ("estate_manager",), type="violation", severity="major"),
    Rule("violation-general", ("customer_service",), type="violation", severity="general"),
)
