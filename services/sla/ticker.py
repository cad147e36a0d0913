"""The ticker: fires every due timer, then sleeps one tick. Lateness is at most one tick
plus the time to fire what came due together (measured by bench/sla_timers.py)."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

import asyncpg

from estatedesk.clock import Clock

from . import timers
from .feedback import flag_missing_feedback
from .handlers import fire_due_cases

log = logging.getLogger(__name__)
PENDING_EVERY_TICKS = 25  # counting a million pending rows each tick would cost more than firing
FEEDBACK_EVERY_TICKS = 50


async def run_ticker(pool: asyncpg.Pool, clock: Clock, tick_s: float, stop: asyncio.Event,
                     on_fired: Callable[[int], None] = lambda n: None,
                     on_pending: Callable[[int], None] = lambda n: None) -> None:
    ticks = 0
    while not stop.is_set():
        try:
            while fired := await fire_due_cases(pool, clock()):
                on_fired(fired)
            if ticks % FEEDBACK_EVERY_TICKS == 0:
                on_fired(await flag_missing_feedback(pool, clock()))
            if ticks % PENDING_EVERY_TICKS == 0:
                on_pending(await timers.pending_count(pool))
        except Exception:  # a database hiccup: the due timers are still due next tick
            log.exception("firing due timers failed; retrying")
        ticks += 1
        try:
            await asyncio.wait_for(stop.wait(), tick_s)
        except asyncio.TimeoutError:
            pass
