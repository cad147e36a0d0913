"""Bearer tokens: signed, expiring, naming role and estates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from estatedesk.auth import InvalidToken, Principal, issue_token, read_token

NOW = datetime.now(timezone.utc)
SECRET = "unit-test-secret-of-at-least-32-bytes"


def test_a_token_names_user_role_and_estates():
    principal = read_token(SECRET, issue_token(SECRET, role="front_desk", estates=["E001"], user="zhao", now=NOW))
    assert (principal.user, principal.role, principal.estates) == ("zhao", "front_desk", ("E001",))
    assert principal.may_act_on("E001") and not principal.may_act_on("E002")


def test_group_roles_act_on_every_estate():
    principal = read_token(SECRET, issue_token(SECRET, role="group_admin", estates=[], user="g", now=NOW))
    assert principal.may_act_on("E042")


@pytest.mark.parametrize("token", [
    issue_token("another-secret-also-32-bytes-long!!", role="front_desk", estates=["E001"], user="x", now=NOW),
    issue_token(SECRET, role="front_desk", estates=["E001"], user="x", now=NOW - timedelta(days=1),
                ttl=timedelta(hours=1)),
    "garbage",
])
def test_forged_expired_or_malformed_tokens_are_refused(token):
    with pytest.raises(InvalidToken):
        read_token(SECRET, token)


def test_unknown_roles_cannot_be_issued():
    with pytest.raises(ValueError):
        issue_token(SECRET, role="landlord", estates=[], user="x", now=NOW)


def test_a_star_in_the_estates_list_is_not_a_wildcard():
    with pytest.raises(ValueError):
        issue_token(SECRET, role="front_desk", estates=["*"], user="x", now=NOW)
    forged = jwt.encode({"sub": "x", "role": "supervisor", "estates": ["*"], "exp": int(NOW.timestamp()) + 600},
                        SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        read_token(SECRET, forged)
    staff = Principal(user="x", role="supervisor", estates=("*",))
    assert not staff.is_group and not staff.may_act_on("E001")


def test_group_access_comes_from_the_role_only():
    assert read_token(SECRET, issue_token(SECRET, role="group_service_center", estates=[], user="g", now=NOW)).is_group
    assert not read_token(SECRET, issue_token(SECRET, role="estate_manager", estates=["E001", "E002"], user="m",
                                              now=NOW)).is_group


def test_a_resident_token_names_the_household_and_sees_only_its_cases():
    resident = read_token(SECRET, issue_token(SECRET, role="resident", estates=["E001"], user="r", now=NOW,
                                              household="H-3-2-1502"))
    assert resident.household == "H-3-2-1502"
    assert resident.may_see_case("E001", "H-3-2-1502")
    assert not resident.may_see_case("E001", "H-1-1-0101") and not resident.may_see_case("E002", "H-3-2-1502")
    unclaimed = read_token(SECRET, issue_token(SECRET, role="resident", estates=["E001"], user="r", now=NOW))
    assert unclaimed.household is None and not unclaimed.may_see_case("E001", None)
    assert read_token(SECRET, issue_token(SECRET, role="front_desk", estates=["E001"], user="d", now=NOW)) \
        .may_see_case("E001", "H-1-1-0101")


def test_only_a_resident_token_names_a_household():
    with pytest.raises(ValueError):
        issue_token(SECRET, role="front_desk", estates=["E001"], user="d", now=NOW, household="H-1")
