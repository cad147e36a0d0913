"""Dispatch routing rules: the defaults of SPEC §3, estate tables, emergencies, violations."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from estatedesk.contracts.events import CaseDispatched, DispatchFailed
from services.dispatch.domain import (
    CaseArrived, CaseFacts, DispatchState, EstateDirectory, RuleTableError, decide, parse_rule_table,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Asia/Shanghai

ESTATE = EstateDirectory.from_configured("E1", {
    "name": "Riverside", "timezone": "Asia/Shanghai",
    "grids": [{"id": "G1", "butler": "butler-li", "buildings": ["1", "2"]},
              {"id": "G2", "butler": "butler-wang", "buildings": ["3", "public"]}],
    "staff": {"customer_service": ["desk-zhao", "supervisor-qian"], "engineering": ["eng-sun", "eng-zhou"],
              "security": ["sec-wu", "sec-zheng", "sec-feng"], "cleaning": ["clean-chen"],
              "greening": ["green-chu"], "estate_manager": ["manager-wei"]},
})


def case(type_: str, category: str | None = None, *, building: str | None = "1", area: str | None = None,
         title: str = "a case", description: str = "", **blocks) -> CaseFacts:
    return CaseFacts.from_case_received("C1", "E1", {
        "type": type_, "category": category, "title": title, "description": description,
        "location": {"building": building, "area": area}, **blocks})


def route(facts: CaseFacts, estate_rules=None, now: datetime = NOW):
    return decide(CaseArrived("cause-1", facts), estate=ESTATE, estate_rules=estate_rules,
                  state=DispatchState(), now=now).decision


@pytest.mark.parametrize("facts, rule, departments, priority", [
    (case("repair", "plumbing", repair={"scope": "in_home"}), "repair", ("engineering",), "normal"),
    (case("repair", "lighting", repair={"scope": "public_area"}), "repair", ("engineering",), "normal"),
    (case("help", "medical"), "help-medical", ("security", "customer_service"), "urgent"),
    (case("help", "security_incident"), "help-security-incident", ("security",), "urgent"),
    (case("help", "disaster"), "help-disaster", ("security", "engineering"), "urgent"),
    (case("help", "other"), "help-other", ("customer_service",), "normal"),
    (case("complaint", "environment"), "complaint-environment", ("cleaning",), "normal"),
    (case("complaint", "cleaning"), "complaint-environment", ("cleaning",), "normal"),
    (case("complaint", "greenery"), "complaint-greenery", ("greening",), "normal"),
    (case("complaint", "fee"), "fee-matters", ("customer_service",), "normal"),
    (case("consultation", "fee"), "fee-matters", ("customer_service",), "normal"),
    (case("complaint", "noise"), "complaint-other", ("customer_service",), "normal"),
    (case("consultation"), "consultation", ("customer_service",), "normal"),
    (case("suggestion"), "suggestion", ("customer_service",), "normal"),
    (case("violation", "decoration", violation={"severity": "general"}), "violation-general",
     ("customer_service",), "normal"),
    (case("violation", "fire_safety", violation={"severity": "major"}), "violation-major",
     ("estate_manager",), "normal"),
])
def test_default_rules(facts, rule, departments, priority):
    decision = route(facts)
    assert decision.dispatched
    assert (decision.rule, decision.rule_table, decision.rule_version) == (rule, "default", 1)
    assert decision.departments == departments
    assert decision.priority == priority
    assert all(decision.assignees[d] for d in departments)


def test_medical_emergency_sends_two_security_staff_and_the_desk_in_one_decision():
    decision = route(case("help", "medical"))
    assert decision.staff_needed == {"security": 2, "customer_service": 1}
    assert decision.assignees == {"security": ("sec-wu", "sec-zheng"), "customer_service": ("desk-zhao",)}
    assert decision.assignee == "sec-wu"


def test_violations_go_to_the_grid_butler_or_the_estate_manager():
    general = route(case("violation", "environment", building="3", violation={"severity": "general"}))
    major = route(case("violation", "harming_others", building="3", violation={"severity": "major"}))
    assert general.assignee == "butler-wang" and general.coordinator == "butler-wang"
    assert major.assignee == "manager-wei" and major.coordinator == "butler-wang"


@pytest.mark.parametrize("category, serious, notify", [
    ("medical", True, ("estate_manager",)), ("disaster", True, ("estate_manager",)),
    ("security_incident", True, ("estate_manager",)), ("medical", False, ()), ("other", True, ()),
])
def test_serious_emergencies_notify_the_estate_manager_at_once(category, serious, notify):
    decision = route(case("help", category, help={"serious": serious}))
    assert decision.notify == notify
    assert decision.notify_staff == (("manager-wei",) if notify else ())
    assert decision.to_payload_dict()["notify"] == list(notify)


def table(*rules, version=7, **extra):
    return parse_rule_table({"version": version, "rules": list(rules), **extra})


def test_an_estate_rule_is_tried_before_the_defaults():
    rules = table({"id": "public-repairs-by-security", "when": {"type": "repair", "scope": "public_area"},
                   "route": [{"department": "security"}]})
    overridden = route(case("repair", repair={"scope": "public_area"}), rules)
    untouched = route(case("repair", repair={"scope": "in_home"}), rules)
    assert (overridden.rule, overridden.rule_table, overridden.rule_version) == (
        "public-repairs-by-security", "estate", 7)
    assert overridden.departments == ("security",)
    assert (untouched.rule, untouched.rule_table, untouched.departments) == ("repair", "default", ("engineering",))


NIGHT_SHIFT = {"id": "night-repairs", "when": {"type": "repair", "hours": {"from": "22:00", "to": "06:00"}},
               "route": [{"department": "security"}, {"department": "engineering"}], "priority": "urgent"}


@pytest.mark.parametrize("utc_hour, rule", [
    (15, "night-repairs"),  # 23:00 local
    (18, "night-repairs"),  # 02:00 local, after midnight
    (22, "repair"),  # 06:00 local: the window has ended
    (2, "repair"),  # 10:00 local
])
def test_time_of_day_rules_use_estate_local_time(utc_hour, rule):
    now = datetime(2026, 11, 23, utc_hour, 0, tzinfo=timezone.utc)
    decision = route(case("repair", repair={"scope": "in_home"}), table(NIGHT_SHIFT), now)
    assert decision.rule == rule
    assert decision.priority == ("urgent" if rule == "night-repairs" else "normal")


@pytest.mark.parametrize("title, description, rule", [
    ("卫生间漏水", "", "leaks-are-urgent"),
    ("Ceiling", "water LEAK from above", "leaks-are-urgent"),
    ("门锁坏了", "", "repair"),
])
def test_keyword_rules_search_title_and_description(title, description, rule):
    rules = table({"id": "leaks-are-urgent", "when": {"type": "repair", "keywords": ["漏水", "leak"]},
                   "route": [{"department": "engineering", "staff": 2}], "priority": "urgent"})
    decision = route(case("repair", title=title, description=description), rules)
    assert decision.rule == rule
    assert len(decision.assignees["engineering"]) == (2 if rule == "leaks-are-urgent" else 1)


@pytest.mark.parametrize("facts, matches", [
    (case("complaint", "noise", building="2"), True),
    (case("complaint", "noise", building="3"), False),
    (case("complaint", "noise", building=None, area="pool"), True),
    (case("complaint", "noise", building=None, area="north gate"), False),
])
def test_location_rules_match_buildings_or_named_areas(facts, matches):
    rules = table({"id": "noise-near-pool", "when": {"location": {"buildings": [1, "2"], "areas": ["pool"]}},
                   "route": [{"department": "security"}]})
    assert (route(facts, rules).rule == "noise-near-pool") is matches


def test_an_estate_rule_cannot_make_an_emergency_less_urgent():
    rules = table({"id": "medical-to-desk", "when": {"type": "help", "category": "medical"},
                   "route": [{"department": "customer_service"}], "priority": "normal", "notify": "supervisor"})
    decision = route(case("help", "medical", help={"serious": True}), rules)
    assert decision.priority == "urgent"
    assert decision.notify == ("supervisor", "estate_manager")
    assert decision.notify_staff == ("supervisor-qian", "manager-wei")


def test_parsing_a_complete_estate_table():
    parsed = table(NIGHT_SHIFT, {
        "id": "violations-in-1", "when": {"type": ["violation"], "severity": "general",
                                          "location": {"public_area": True}},
        "route": [{"department": "customer_service", "assign": "grid_butler"}], "notify": ["estate_manager"]},
        max_bounces=2)
    assert (parsed.source, parsed.version, parsed.max_bounces) == ("estate", 7, 2)
    assert [r.rule_id for r in parsed.rules] == ["night-repairs", "violations-in-1"]
    assert parsed.rules[1].location.public_area is True


@pytest.mark.parametrize("data, path, message", [
    ([], "", "must be an object"),
    ({"rules": []}, "version", "positive integer"),
    ({"version": 1, "rules": [], "owner": "x"}, "owner", "unknown field"),
    ({"version": 1, "rules": [], "max_bounces": -1}, "max_bounces", "non-negative"),
    ({"version": 1, "rules": {}}, "rules", "must be a list"),
    ({"version": 1, "rules": [{"when": {}, "route": [{"department": "security"}]}]}, "rules[0].id", "non-empty"),
    ({"version": 1, "rules": [{"id": "r", "route": [{"department": "plumbing"}]}]},
     "rules[0].route[0].department", "must be one of"),
    ({"version": 1, "rules": [{"id": "r", "route": []}]}, "rules[0].route", "non-empty list"),
    ({"version": 1, "rules": [{"id": "r", "route": [{"department": "security", "staff": 0}]}]},
     "rules[0].route[0].staff", "from 1 to"),
    ({"version": 1, "rules": [{"id": "r", "route": [{"department": "customer_service", "assign": "grid_butler",
                                                      "staff": 2}]}]}, "rules[0].route[0].staff", "one grid butler"),
    ({"version": 1, "rules": [{"id": "r", "when": {"type": "repairs"}, "route": [{"department": "security"}]}]},
     "rules[0].when.type", "unknown value(s) 'repairs'"),
    ({"version": 1, "rules": [{"id": "r", "when": {"colour": "red"}, "route": [{"department": "security"}]}]},
     "rules[0].when.colour", "unknown condition"),
    ({"version": 1, "rules": [{"id": "r", "when": {"hours": {"from": "22:00", "to": "25:00"}},
                               "route": [{"department": "security"}]}]}, "rules[0].when.hours", "HH:MM"),
    ({"version": 1, "rules": [{"id": "r", "when": {"location": {}}, "route": [{"department": "security"}]}]},
     "rules[0].when.location", "'buildings'"),
    ({"version": 1, "rules": [{"id": "r", "route": [{"department": "security"}], "priority": "high"}]},
     "rules[0].priority", "normal, urgent"),
    ({"version": 1, "rules": [{"id": "r", "route": [{"department": "security"}], "notify": ["mayor"]}]},
     "rules[0].notify", "unknown value(s) 'mayor'"),
    ({"version": 1, "rules": [{"id": "r", "route": [{"department": "security"}]},
                              {"id": "r", "route": [{"department": "engineering"}]}]},
     "rules[1].id", "duplicate rule id 'r'"),
])
def test_invalid_estate_tables_are_refused_with_the_offending_field(data, path, message):
    with pytest.raises(RuleTableError) as refused:
        parse_rule_table(data)
    assert any(p == path and message in m for p, m in refused.value.errors), refused.value.errors


def test_every_problem_of_a_table_is_reported_at_once():
    with pytest.raises(RuleTableError) as refused:
        parse_rule_table({"version": 0, "rules": [{"id": "", "route": [{"department": "x"}]}]})
    assert [p for p, _ in refused.value.errors] == ["version", "rules[0].id", "rules[0].route[0].department"]


def test_payloads_carry_the_contract_fields_of_their_event_type():
    dispatched = route(case("help", "disaster")).to_payload_dict()
    assert CaseDispatched.model_validate({k: dispatched[k] for k in CaseDispatched.model_fields})
    empty = EstateDirectory.from_configured("E1", {"name": "Empty", "staff": {"customer_service": ["sup"]},
                                                   "supervisor": "sup"})
    failed = decide(CaseArrived("cause-1", case("repair")), estate=empty, estate_rules=None,
                    state=DispatchState(), now=NOW).decision
    payload = failed.to_payload_dict()
    assert failed.event_type == "DispatchFailed"
    assert DispatchFailed.model_validate({k: payload[k] for k in DispatchFailed.model_fields})
    assert payload["routed_to"] == "customer_service_supervisor"
    assert (payload["assignee"], payload["rule"], payload["unstaffed"]) == (
        "sup", "repair", {"engineering": "no engineering staff at estate E1"})
