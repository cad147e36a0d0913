"""Receiving a case: the CaseReceived fact, or field-level errors."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from estatedesk.contracts.case_blocks import HelpBlock, RepairBlock
from services.intake.domain.errors import InvalidCommand
from services.intake.domain.estate import Estate
from services.intake.domain.reception import NewCase, mask_phone, receive

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
ESTATE = Estate("E001", "Riverside", buildings={"3": {"id": "3"}})


def new_case(**overrides) -> NewCase:
    fields = dict(
        estate_id="E001", type="repair", channel="phone", title="Kitchen pipe leaking",
        location={"building": "3", "unit": "2", "room": "1502"},
        reporter={"name": "王女士", "phone": "13812345678", "household_id": "H-3-2-1502"},
        category="plumbing", blocks={"repair": {"scope": "in_home", "in_warranty": None}},
    )
    fields.update(overrides)
    return NewCase(**fields)


def errors_of(case: NewCase) -> list[str]:
    with pytest.raises(InvalidCommand) as refused:
        receive(case, ESTATE, NOW)
    return [field for field, _ in refused.value.errors]


def test_an_in_home_repair_is_received_without_the_reporters_personal_data():
    fact = receive(new_case(), ESTATE, NOW)
    assert fact.type == "repair" and fact.received_at == NOW and fact.priority == "normal"
    assert fact.reporter.model_dump() == {"household_id": "H-3-2-1502", "phone_masked": "138****5678"}
    assert fact.repair == RepairBlock(scope="in_home")
    assert fact.help is None and fact.complaint is None


def test_an_emergency_help_request_is_urgent():
    fact = receive(new_case(type="help", category="medical", blocks={"help": {"serious": True}}), ESTATE, NOW)
    assert fact.priority == "urgent" and fact.help == HelpBlock(serious=True)


@pytest.mark.parametrize("overrides, field", [
    ({"location": {"building": "3", "unit": "2"}}, "location.room"),
    ({"location": {"building": "9", "room": "1"}}, "location.building"),
    ({"location": {}}, "location"),
    ({"reporter": {"phone": "call me"}}, "reporter.phone"),
    ({"received_at": NOW + timedelta(minutes=10)}, "received_at"),
    ({"received_at": NOW - timedelta(days=7, minutes=1)}, "received_at"),
    ({"received_at": datetime(2026, 11, 22, 9, 0)}, "received_at"),
    ({"blocks": {"repair": {"scope": "garden"}}}, "repair.scope"),
    ({"type": "help", "category": "lost_cat", "blocks": {}}, "category"),
    ({"type": "violation", "category": "decoration", "blocks": {"violation": {"severity": "mild"}}},
     "violation.severity"),
    ({"channel": "carrier_pigeon"}, "channel"),
    ({"title": "   "}, "title"),
])
def test_bad_input_names_the_field(overrides, field):
    assert field in errors_of(new_case(**overrides))


def test_back_dating_within_seven_days_is_allowed():
    fact = receive(new_case(received_at=NOW - timedelta(days=6, hours=23)), ESTATE, NOW)
    assert fact.received_at == NOW - timedelta(days=6, hours=23)


@pytest.mark.parametrize("phone, masked", [("13812345678", "138****5678"), ("021-62345678", "021****5678"),
                                           (None, None), ("12345", "****")])
def test_phones_are_masked(phone, masked):
    assert mask_phone(phone) == masked
