"""Bearer tokens of SPEC §5 "Identity": signed (HS256), naming a user, a role and estates,
and for a resident the household whose cases they may see.

Group access comes only from a group role: the estates list names estates, and an entry
that is not an estate id (such as `*`) is refused, never read as "every estate"."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from estatedesk.inputs import ID_PATTERN

ROLES = (
    "resident", "front_desk", "butler", "supervisor", "department_staff", "department_head",
    "estate_manager", "general_manager", "group_service_center", "group_admin",
)
GROUP_ROLES = frozenset({"group_service_center", "group_admin"})
_ID = re.compile(ID_PATTERN)


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    user: str
    role: str
    estates: tuple[str, ...]
    household: str | None = None

    @property
    def is_group(self) -> bool:
        return self.role in GROUP_ROLES

    def may_act_on(self, estate_id: str) -> bool:
        return self.is_group or estate_id in self.estates

    def may_see_case(self, estate_id: str, household_id: str | None) -> bool:
        """A case of one of the caller's estates; a resident sees only their household's."""
        if not self.may_act_on(estate_id):
            return False
        if self.role == "resident":
            return self.household is not None and household_id == self.household
        return True


def bad_estate_ids(estates) -> list[str]:
    """The entries of an estates list that are not estate ids (`*` among them)."""
    return [e for e in estates if not isinstance(e, str) or not _ID.match(e)]


def issue_token(secret: str, *, role: str, estates: list[str], user: str, now: datetime,
                ttl: timedelta = timedelta(hours=12), household: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    if bad_estate_ids(estates):
        raise ValueError(f"not estate ids: {', '.join(map(str, bad_estate_ids(estates)))}"
                         " (group-wide access comes from a group role, not from the estates list)")
    if household is not None and (role != "resident" or not _ID.match(household)):
        raise ValueError("a household is named only on a resident's token, as a household id")
    claims = {"sub": user, "role": role, "estates": list(estates),
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    if household is not None:
        claims["household"] = household
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    role = claims.get("role")
    estates = claims.get("estates", [])
    if role not in ROLES or not isinstance(estates, list):
        raise InvalidToken("token names no known role")
    if bad_estate_ids(estates):
        raise InvalidToken("token's estates are not all estate ids")
    household = claims.get("household")
    if household is not None and (role != "resident" or not isinstance(household, str)):
        raise InvalidToken("only a resident's token names a household")
    return Principal(user=str(claims["sub"]), role=role, estates=tuple(estates), household=household)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
