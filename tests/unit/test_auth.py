"""Bearer tokens: signed, expiring, naming role and estates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from estatedesk.auth import InvalidToken, issue_token, read_token

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
