"""Helpers shared by tests: polling with a deadline instead of sleeping."""
from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


@lru_cache(maxsize=1)
def clock_offset_s() -> float:
    """`ESTATEDESK_TEST_NOW=2026-12-01T16:59:00+08:00` runs the test stack's services, and the
    tests' own idea of now, from that moment on; unset, both run on the machine's clock."""
    at = os.environ.get("ESTATEDESK_TEST_NOW")
    return (datetime.fromisoformat(at) - datetime.now(timezone.utc)).total_seconds() if at else 0.0


def stack_now() -> datetime:
    """Now on the test stack's clock (what intake and the SLA ticker believe)."""
    return datetime.fromtimestamp(time.time() + clock_offset_s(), timezone.utc)


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 15.0, interval: float = 0.05,
                     what: str = "condition") -> T:
    """Await `probe()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)  # poll
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def repair_case(estate: str = "E001", **overrides) -> dict:
    body = {
        "estate_id": estate, "type": "repair", "category": "plumbing", "channel": "phone",
        "title": "Kitchen pipe leaking", "description": "Water under the sink",
        "location": {"building": "3", "unit": "2", "room": "1502"},
        "reporter": {"name": "王女士", "phone": "13812345678", "household_id": "H-3-2-1502"},
        "repair": {"scope": "in_home", "in_warranty": None},
    }
    body.update(overrides)
    return body


class StoryCase:
    """One case of a story test, driven through the HTTP contract: commands to intake as one
    of `tokens` (name → Authorization header), views from analytics."""

    def __init__(self, intake, analytics, tokens: dict, case_id: str, view_timeout: float = 15.0):
        self.intake, self.analytics, self.tokens, self.case_id = intake, analytics, tokens, case_id
        self.view_timeout = view_timeout

    @classmethod
    async def file(cls, intake, analytics, tokens: dict, body: dict, **options) -> "StoryCase":
        created = await intake.post("/v1/cases", json=body, headers=tokens["desk"])
        assert created.status_code == 201, created.text
        return cls(intake, analytics, tokens, created.json()["case_id"], **options)

    async def do(self, command: str, who: str, expect: int = 200, **body) -> dict:
        r = await self.intake.post(f"/v1/cases/{self.case_id}/{command}", json=body, headers=self.tokens[who])
        assert r.status_code == expect, f"{command}: {r.status_code} {r.text}"
        return r.json()

    async def view(self, who: str = "desk", position: int | None = None) -> dict:
        params = {"min_position": position} if position else {}
        r = await self.analytics.get(f"/v1/cases/{self.case_id}", params=params, headers=self.tokens[who])
        assert r.status_code == 200, r.text
        return r.json()

    async def view_when(self, check, what: str = "view", who: str = "desk") -> dict:
        async def probe():  # 404 until analytics has the case
            r = await self.analytics.get(f"/v1/cases/{self.case_id}", headers=self.tokens[who])
            return r.json() if r.status_code == 200 and check(r.json()) else None
        return await eventually(probe, timeout=self.view_timeout, what=f"case {self.case_id}: {what}")


async def signed_in_console(stack, pool, role: str, estates: list[str]):
    """An httpx client signed in to the console as a new account of `role` over `estates`."""
    import uuid

    import httpx

    from services.console.auth import accounts

    user = f"{role}-{uuid.uuid4().hex[:6]}"
    await accounts.add_account(pool, user_id=user, display_name=user, role=role, estates=estates,
                               password="right-password")
    console = httpx.AsyncClient(base_url=stack.url("console"), timeout=10)
    signed_in = await console.post("/login", data={"user": user, "password": "right-password", "next": "/"})
    assert signed_in.status_code == 303, signed_in.text[:300]
    return console
