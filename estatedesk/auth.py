"""Bearer tokens of SPEC §5 "Identity": signed (HS256), naming a user, a role and estates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

ROLES = (
    "resident", "front_desk", "butler", "supervisor", "department_staff", "department_head",
    "estate_manager", "general_manager", "group_service_center", "group_admin",
)
GROUP_ROLES = frozenset({"group_service_center", "group_admin"})


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    user: str
    role: str
    estates: tuple[str, ...]

    def may_act_on(self, estate_id: str) -> bool:
        return self.role in GROUP_ROLES or estate_id in self.estates


def issue_token(secret: str, *, role: str, estates: list[str], user: str, now: datetime,
                ttl: timedelta = timedelta(hours=12)) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    claims = {"sub": user, "role": role, "estates": list(estates),
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
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
    return Principal(user=str(claims["sub"]), role=role, estates=tuple(map(str, estates)))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
