"""Sign-in rules as plain functions of the account and `now`: lock after repeated failures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    """What a sign-in attempt leads to: allowed or not, and the counters to store."""
    allowed: bool
    reason: str  # "ok", "unknown", "disabled", "locked", "wrong_password"
    failed_attempts: int
    locked_until: datetime | None


def judge(account: dict | None, password_ok: bool, now: datetime) -> Attempt:
    if account is None:
        return Attempt(False, "unknown", 0, None)
    if account["disabled"]:
        return Attempt(False, "disabled", account["failed_attempts"], account["locked_until"])
    locked_until = account["locked_until"]
    if locked_until is not None and locked_until > now:
        return Attempt(False, "locked", account["failed_attempts"], locked_until)
    if password_ok:
        return Attempt(True, "ok", 0, None)
    failures = (0 if locked_until is not None else account["failed_attempts"]) + 1
    if failures >= MAX_FAILURES:
        return Attempt(False, "locked", 0, now + LOCK_FOR)
    return Attempt(False, "wrong_password", failures, None)
