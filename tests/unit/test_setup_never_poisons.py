"""Whatever set-up and policy pass validation, and whatever case passes the request model,
intake's decisions, dispatch's routing and the SLA engine never raise on them."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, assume, event, given, settings, strategies as st
from pydantic import ValidationError

from estatedesk.contracts import encode
from estatedesk.contracts.events import EstateConfigured
from services.dispatch.domain import CaseArrived, CaseFacts, DispatchState, EstateDirectory, decide, parse_rule_table
from services.dispatch.domain.rules import DEPARTMENTS, NOTIFY_ROLES
from services.intake.domain import coverage
from services.intake.domain.errors import InvalidCommand
from services.intake.domain.estate import Estate
from services.intake.domain.reception import NewCase, receive
from services.intake.policy import validate_policy
from services.intake.schemas import CaseIn
from services.intake.setup_models import ESCALATION_ROLES, SLA_RULES, EstateSetup, PolicyIn
from services.sla.domain.clocks import SlaCase, fire_due, next_due, observe
from services.sla.domain.sla_policy import policy_from

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ZONES = ("Asia/Shanghai", "Asia/Urumqi", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC", "America/St_Johns")
places = st.text(alphabet="0123456789ABC栋-", min_size=1, max_size=4)
user_ids = st.from_regex(r"\A[a-z][a-z0-9-]{0,8}\Z")
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
dates = st.dates(date(1950, 1, 1), date(2100, 12, 31)).map(date.isoformat)


def _one_or_many(values):
    return st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))


@st.composite
def setups(draw) -> dict:
    building_ids = draw(st.lists(places, max_size=5, unique=True))
    buildings = [{"id": b, "handover_date": draw(st.none() | dates),
                  "units": [{"id": u, "handover_date": draw(st.none() | dates), "rooms": draw(st.lists(places, max_size=3, unique=True))}
                            for u in draw(st.lists(places, max_size=3, unique=True))]}
                 for b in building_ids]
    grids = [{"id": f"G{i}", "butler": draw(st.none() | user_ids),
              "buildings": draw(st.lists(st.sampled_from([*building_ids, "public"]), max_size=4, unique=True)),
              "areas": draw(st.lists(st.sampled_from(["north gate", "car park", "lobby"]), max_size=2, unique=True))}
             for i in range(draw(st.integers(0, 3)))]
    staff = draw(st.dictionaries(st.sampled_from(DEPARTMENTS), st.lists(user_ids, max_size=3, unique=True), max_size=6))
    return {"name": "Estate", "timezone": draw(st.sampled_from(ZONES)), "buildings": buildings, "grids": grids,
            "staff": staff}


@st.composite
def policies(draw) -> dict:
    rules = [{"id": f"r{i}",
              "when": draw(st.fixed_dictionaries({}, optional={
                  "type": _one_or_many(("consultation", "suggestion", "help", "complaint", "repair", "violation")),
                  "category": st.sampled_from(["plumbing", "noise", "medical", "lift"]),
                  "scope": _one_or_many(("public_area", "in_home")),
                  "severity": _one_or_many(("general", "major")),
                  "location": st.fixed_dictionaries({}, optional={"buildings": st.lists(places, min_size=1, max_size=2),
                                                                  "public_area": st.booleans()}),
                  "hours": st.fixed_dictionaries({"from": clock, "to": clock}),
                  "keywords": st.lists(st.sampled_from(["漏水", "leak", "noise"]), min_size=1, max_size=2)})),
              "route": [{"department": d, "staff": draw(st.integers(1, 3))}
                        for d in draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, max_size=3, unique=True))],
              **draw(st.fixed_dictionaries({}, optional={"priority": st.sampled_from(["normal", "urgent"]),
                                                         "notify": _one_or_many(NOTIFY_ROLES)}))}
             for i in range(draw(st.integers(0, 3)))]
    sla_rules = draw(st.dictionaries(st.sampled_from(SLA_RULES), st.fixed_dictionaries({}, optional={
        "target_minutes": st.integers(0, 30 * 24 * 60), "working_days": st.integers(0, 60),
        "clock": st.sampled_from(["24x7", "business_hours"]), "warn_at": st.floats(0.01, 0.99),
        "pausable": st.booleans(), "enabled": st.booleans(),
        "escalations": st.lists(st.fixed_dictionaries({"to_role": st.sampled_from(ESCALATION_ROLES),
                                                       "after_minutes": st.integers(0, 10_000)}), max_size=3)}),
        max_size=3))
    spans = draw(st.none() | st.lists(st.tuples(st.integers(0, 22), st.integers(1, 23)).map(sorted).filter(
        lambda s: s[0] < s[1]).map(lambda s: [f"{s[0]:02d}:00", f"{s[1]:02d}:00"]), min_size=1, max_size=1))
    return {"dispatch": {"max_bounces": draw(st.integers(0, 20)), "rules": rules},
            "sla": {"rules": sla_rules, **({"calendar": {"spans": spans}} if spans else {})},
            "warranty": {"liability_years": draw(st.dictionaries(
                st.sampled_from(sorted(coverage.DEFAULT_LIABILITY_YEARS)), st.integers(0, 70), max_size=3))},
            "complaints": {"repeat_window_days": draw(st.integers(1, 3650))}}


@st.composite
def cases(draw, setup: dict) -> dict:
    kind = draw(st.sampled_from(["consultation", "suggestion", "help", "complaint", "repair", "violation"]))
    buildings = [b["id"] for b in setup["buildings"]]
    building = draw(st.none() | st.sampled_from(buildings)) if buildings else None
    units = next((b["units"] for b in setup["buildings"] if b["id"] == building), [])
    location = ({"building": building, "unit": draw(st.sampled_from([u["id"] for u in units])) if units else None,
                 "room": draw(st.none() | places)} if building else {"area": draw(st.sampled_from(["lobby", "car park"]))})
    blocks = {
        "repair": st.fixed_dictionaries({"scope": st.sampled_from(["public_area", "in_home"])},
                                        optional={"in_warranty": st.none() | st.booleans()}),
        "complaint": st.fixed_dictionaries({"origin": st.sampled_from(["resident", "group_center", "quality_office"])}),
        "help": st.fixed_dictionaries({"serious": st.booleans(), "paid": st.booleans()}),
        "violation": st.fixed_dictionaries({"severity": st.sampled_from(["general", "major"])}),
    }
    body = {"estate_id": "EP1", "type": kind, "channel": draw(st.sampled_from(["phone", "walk_in", "app", "patrol"])),
            "category": draw(st.sampled_from(["plumbing", "noise", "medical", "disaster", "decoration", "other", "lift"])),
            "title": draw(st.text(min_size=1, max_size=20).filter(str.strip)), "location": location,
            "received_at": (NOW - timedelta(minutes=draw(st.integers(0, 7 * 24 * 60 - 1)))).isoformat()}
    if kind in blocks:
        body[kind] = draw(blocks[kind])
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_no_valid_setup_policy_or_case_makes_a_service_raise(data):
    raw_setup, raw_policy = data.draw(setups()), data.draw(policies())
    try:
        setup, policy_in = EstateSetup.model_validate(raw_setup), PolicyIn.model_validate(raw_policy)
        case_in = CaseIn.model_validate(data.draw(cases(raw_setup)))
    except ValidationError:
        assume(False)
    stored_setup = encode(EstateConfigured(**setup.model_dump(mode="json")))
    blocks = policy_in.blocks()
    try:
        validate_policy(blocks, 1)
    except InvalidCommand:
        assume(False)
    stored_policy = {"version": 1, "effective_from": NOW.isoformat(), **blocks}

    # intake: the decision to record, and the warranty of an in-home repair
    body = case_in.model_dump(mode="python")
    estate = Estate.from_configured("EP1", stored_setup)
    try:
        fact = receive(NewCase(estate_id="EP1", type=body["type"], channel=body["channel"], title=body["title"],
                               location=body["location"], reporter=body["reporter"], category=body["category"],
                               received_at=body["received_at"], blocks={k: body.get(k) for k in
                                                                        ("repair", "complaint", "help", "violation")}),
                       estate, NOW)
    except InvalidCommand:
        event("refused at intake")
        return
    event("received, routed and timed")
    location = body["location"]
    coverage.determine(fact.category, estate.handover_date(location.get("building"), location.get("unit")),
                       fact.received_at.date(), blocks["warranty"].get("liability_years"))
    received = encode(fact)

    # dispatch: the estate's directory and rule table, then a routing decision
    directory = EstateDirectory.from_configured("EP1", stored_setup)
    table = parse_rule_table({**stored_policy["dispatch"], "version": 1})
    routed = decide(CaseArrived(str(uuid.uuid4()), CaseFacts.from_case_received("C-1", "EP1", received)),
                    estate=directory, estate_rules=table, state=DispatchState(), now=NOW)
    assert routed.decision is not None

    # SLA: the policy in force, every clock the case starts, and time passing
    sla_policy = policy_from(1, NOW, stored_policy["sla"], stored_setup["timezone"])
    sla = SlaCase("C-1", received)
    at = fact.received_at
    for event_type, payload in (("CaseReceived", received), ("CaseDispatched", {"departments": ["engineering"]}),
                                ("WorkPaused", {"reason": "waiting_on_resident"}), ("WorkResumed", {}),
                                ("WorkCompleted", {})):
        sla, _ = observe(sla, event_type, payload, at, sla_policy, cause=event_type)
        at += timedelta(hours=3)
        sla, _ = fire_due(sla, at, sla_policy)
        next_due(sla, sla_policy)
