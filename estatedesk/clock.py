"""The wall clock, injected where adapters need time; domain code receives `now` instead."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def shifted_clock(offset_s: float) -> Clock:
    """The machine's clock moved by `offset_s` seconds: a whole stack can then run at a chosen
    time of day (the test stack at 16:59 Shanghai, say) without touching the machine's clock."""
    if not offset_s:
        return system_clock
    offset = timedelta(seconds=offset_s)
    return lambda: datetime.now(timezone.utc) + offset
