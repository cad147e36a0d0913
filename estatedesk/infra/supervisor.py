"""Supervision for `estatedesk dev`: a part that dies is started again, the rest keep running.

Production leaves this to its orchestrator (compose `restart:`, Kubernetes probes); on one
machine the dev command is the orchestrator. Each part (a service, the embedded broker, the
embedded PostgreSQL) gets its own back-off, so a part that cannot start (a port taken, a bad
setting) is retried ever more slowly instead of spinning, and one that ran long enough is
forgiven its earlier failures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Backoff:
    """When to try a part again after it died; pure, the caller passes the time."""

    first_s: float = 1.0
    longest_s: float = 30.0
    forgiven_after_s: float = 60.0
    failures: int = 0
    started_at: float | None = None
    retry_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at, self.retry_at = now, None

    def died(self, now: float) -> float:
        """Record a death; returns the delay before the next start."""
        if self.started_at is not None and now - self.started_at >= self.forgiven_after_s:
            self.failures = 0
        delay = min(self.longest_s, self.first_s * 2 ** self.failures)
        self.failures += 1
        self.started_at, self.retry_at = None, now + delay
        return delay

    def due(self, now: float) -> bool:
        return self.retry_at is not None and now >= self.retry_at


@dataclass
class Part:
    """One supervised part: how to tell it is alive, how to start it again."""

    name: str
    alive: Callable[[], bool]
    start: Callable[[], None]
    log_hint: str = ""
    infrastructure: bool = False
    backoff: Backoff = field(default_factory=Backoff)


class Supervisor:
    """Checks every part on each `check(now)`; restarts the dead ones when their back-off allows.

    Parts are checked in order, infrastructure first, so a service is not restarted into a
    database that is itself down (it would fail its start and only lengthen its back-off)."""

    def __init__(self, parts: list[Part], say: Callable[[str], None], *, now: float):
        self.parts = parts
        self._say = say
        self.restarts: dict[str, int] = {p.name: 0 for p in parts}
        for part in parts:
            part.backoff.started(now)

    def check(self, now: float) -> None:
        for part in self.parts:
            if not self._check_part(part, now) and part.infrastructure:
                return

    def _check_part(self, part: Part, now: float) -> bool:
        """Returns whether the part is running after the check."""
        backoff = part.backoff
        if backoff.retry_at is None:
            if part.alive():
                return True
            delay = backoff.died(now)
            self._say(f"{part.name} stopped unexpectedly{part.log_hint}; starting it again in {delay:.0f}s")
        if not backoff.due(now):
            return False
        try:
            part.start()
        except Exception as exc:  # a failed start is one more death, with a longer wait
            delay = backoff.died(now)
            self._say(f"{part.name} did not start ({exc}); trying again in {delay:.0f}s")
            return False
        backoff.started(now)
        self.restarts[part.name] += 1
        self._say(f"{part.name} started again (restart {self.restarts[part.name]})")
        return True
