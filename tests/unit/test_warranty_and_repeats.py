"""Warranty at intake and repeat-complaint detection."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.intake.domain.coverage import determine
from services.intake.domain.repeats import EarlierComplaint, detect

HANDOVER = date(2022, 6, 30)


@pytest.mark.parametrize("category, on, covered, rule", [
    ("leak", date(2027, 6, 29), True, "waterproofing_5_years_from_handover"),
    ("leak", date(2027, 6, 30), False, "waterproofing_5_years_from_handover"),
    ("plumbing", date(2024, 6, 29), True, "plumbing_2_years_from_handover"),
    ("plumbing", date(2024, 6, 30), False, "plumbing_2_years_from_handover"),
    ("electrical", date(2025, 1, 1), False, "electrical_2_years_from_handover"),
    ("something odd", date(2023, 1, 1), True, "equipment_2_years_from_handover"),
])
def test_warranty_follows_the_liability_period_of_the_component(category, on, covered, rule):
    decision = determine(category, HANDOVER, on)
    assert (decision.in_warranty, decision.rule) == (covered, rule)


def test_an_estate_policy_can_lengthen_a_liability_period():
    assert determine("plumbing", HANDOVER, date(2025, 1, 1), {"plumbing": 3}).in_warranty is True


def test_a_leap_day_handover_ends_on_the_28th():
    assert determine("plumbing", date(2024, 2, 29), date(2026, 2, 28)).in_warranty is False


def test_an_override_records_who_decided_and_why():
    decision = determine("plumbing", HANDOVER, date(2026, 1, 1), override=True, override_reason="goodwill")
    assert decision.in_warranty and decision.overridden and decision.override_reason == "goodwill"


def test_an_unknown_handover_favours_the_resident():
    assert determine("plumbing", None, date(2030, 1, 1)).rule == "handover_date_unknown"


AT = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
EARLIER = [EarlierComplaint("C-OLD", "H-1", "noise", AT - timedelta(days=40)),
           EarlierComplaint("C-RECENT", "H-1", "noise", AT - timedelta(days=3)),
           EarlierComplaint("C-OTHER", "H-1", "environment", AT - timedelta(days=1))]


def test_the_same_household_and_category_within_the_window_is_a_repeat():
    found = detect(None, "H-1", "noise", AT, EARLIER)
    assert (found.earlier_case_id, found.how) == ("C-RECENT", "same_household_category")


def test_outside_the_window_or_another_category_is_not():
    assert detect(None, "H-1", "noise", AT, EARLIER[:1]) is None
    assert detect(None, "H-1", "greenery", AT, EARLIER) is None
    assert detect(None, None, "noise", AT, EARLIER) is None


def test_an_explicit_link_is_a_repeat_whatever_the_household():
    assert detect("C-X", None, "noise", AT, []).how == "explicit_link"
