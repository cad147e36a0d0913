"""Who may file which case, on which channel and from which origin."""
from __future__ import annotations

import pytest

from estatedesk.auth import GROUP_ROLES, ROLES
from services.intake.domain.errors import NotPermitted
from services.intake.domain.filing import check_filing

ESTATE_STAFF = sorted(set(ROLES) - GROUP_ROLES - {"resident"})
HOUSEHOLD = "H-3-2-1502"


def may(role: str, channel: str = "phone", type: str = "repair", origin: str | None = None,
        household: str | None = None, reporter_household: str | None = HOUSEHOLD) -> bool:
    try:
        check_filing(role, household, channel=channel, type=type, origin=origin,
                     reporter_household=reporter_household)
    except NotPermitted:
        return False
    return True


@pytest.mark.parametrize("role", ESTATE_STAFF)
def test_estate_staff_log_what_reaches_them_but_not_the_group_s_transfers(role):
    assert all(may(role, channel) for channel in ("phone", "walk_in", "app", "patrol"))
    assert may(role, type="complaint", origin="resident") and may(role, type="complaint")
    assert not may(role, "group_transfer", type="complaint", origin="group_center")
    assert not may(role, "phone", type="complaint", origin="group_center")
    assert not may(role, "phone", type="complaint", origin="quality_office")


@pytest.mark.parametrize("role", sorted(GROUP_ROLES))
def test_group_roles_transfer_complaints_in(role):
    for origin in ("group_center", "quality_office", "resident"):
        assert may(role, "group_transfer", type="complaint", origin=origin)
    assert may(role, "phone", type="consultation")


def test_a_resident_files_from_the_app_for_their_own_household_only():
    assert may("resident", "app", household=HOUSEHOLD)
    assert may("resident", "app", type="complaint", origin="resident", household=HOUSEHOLD)
    assert not may("resident", "phone", household=HOUSEHOLD)
    assert not may("resident", "group_transfer", type="complaint", origin="group_center", household=HOUSEHOLD)
    assert not may("resident", "app", type="complaint", origin="quality_office", household=HOUSEHOLD)
    assert not may("resident", "app", household=HOUSEHOLD, reporter_household="H-1-1-0101")
    assert not may("resident", "app", household=HOUSEHOLD, reporter_household=None)
    assert not may("resident", "app", household=None, reporter_household=None)


def test_origin_matters_for_complaints_only():
    assert may("front_desk", type="repair", origin="group_center")  # no complaint block is kept for a repair


def test_an_unknown_role_files_nothing():
    assert not may("landlord")
