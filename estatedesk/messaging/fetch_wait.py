"""How long a consumer's next fetch may wait on the broker: short while messages flow, long
once the topics have been quiet for a while.

Tansu answers a waiting fetch only after about half of its wait, data or not, so the wait is
both the idle cost (one fetch per half-wait per consumer) and the delay a message can sit
unseen. While messages arrive a short wait keeps every hop to a few milliseconds; after
`quiet_after_s` without any, a long wait lets an idle stack sleep, and the first message
after the quiet spell costs at most half the long wait before the short one is back.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FetchWait:
    busy_ms: int
    quiet_ms: int
    quiet_after_s: float
    last_data_at: float = float("-inf")

    def after_fetch(self, had_data: bool, now: float) -> int:
        """The wait (ms) for the next fetch, given whether this one brought messages."""
        if had_data:
            self.last_data_at = now
        return self.busy_ms if now - self.last_data_at < self.quiet_after_s else max(self.quiet_ms, self.busy_ms)
