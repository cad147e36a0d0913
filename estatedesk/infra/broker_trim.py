"""Keeping `make dev`'s embedded broker small: empty it now and then, carrying over what is unread.

Tansu 0.6 on memory storage keeps every message: it ignores `retention.ms` and
`retention.bytes`, its DeleteRecords handler is unimplemented (the request kills the
connection), and a topic deleted and created again restarts at offset 0 while live consumers
keep fetching at their old positions and see nothing. What does free its memory is a restart,
and the consumers cope with that: their groups are gone, they rejoin and read the fresh topics
from the start. Every message on the broker is a notification about events stored in
PostgreSQL, so dropping the ones every consumer group has committed past loses nothing.

A trim therefore reads, per partition, the messages from the slowest group's committed offset
on, restarts the broker, and produces them again in their order: nothing a group has not
committed is dropped. A message relayed in the few milliseconds between the last read and the
restart is lost to the broker; dispatch, SLA and analytics find its case in their store
sweeps, and the console's inbox misses that one notification.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from estatedesk.contracts.topology import consumed_by

from . import broker_io
from .broker_io import Partition

log = logging.getLogger(__name__)

# The topics each service's consumer group reads, from the contract's one table.
CONSUMER_TOPICS: dict[str, tuple[str, ...]] = {
    service: consumed_by(service) for service in ("dispatch", "sla", "analytics", "console")}
CHECK_EVERY_S = 5.0
KEEP_TRIMS = 100  # the recent ones, for a report; a stack left running for days trims hundreds of times


@dataclass(frozen=True)
class TrimPlan:
    ends: dict[Partition, int]  # one past each partition's last message
    keep_from: dict[Partition, int]  # the slowest reading group's committed offset
    held_back_by: dict[Partition, str] = field(default_factory=dict)  # that group, where it is behind

    @property
    def dropped(self) -> int:
        return sum(self.keep_from.values())

    @property
    def carried(self) -> int:
        return sum(self.ends[p] - self.keep_from[p] for p in self.ends)


def plan_trim(ends: dict[Partition, int], committed: dict[str, dict[Partition, int]],
              readers: dict[str, tuple[str, ...]], *, held_for_s: float, retention_s: float,
              max_messages: int) -> TrimPlan | None:
    """Whether to empty the broker now, and from which offset on each partition is kept.

    Due once the messages have been held `retention_s` (measured from the last trim) or there
    are `max_messages` of them. A partition is kept from the lowest offset committed by the
    groups that read its topic; a reading group that has committed nothing there keeps it all.
    No trim unless it drops at least half of what is held: a restart costs every consumer a
    rejoin, and a group stuck behind must not make the broker restart at every check."""
    held = sum(ends.values())
    if held == 0 or retention_s <= 0 or (held_for_s < retention_s and held < max_messages):
        return None
    keep_from, held_back_by = {}, {}
    for (topic, partition), end in ends.items():
        offsets = {group: committed.get(group, {}).get((topic, partition), 0)
                   for group, topics in readers.items() if topic in topics}
        slowest = min(offsets, key=offsets.get, default=None)
        keep_from[(topic, partition)] = max(0, min(end, offsets.get(slowest, end)))
        if keep_from[(topic, partition)] < end:
            held_back_by[(topic, partition)] = slowest
    plan = TrimPlan(dict(ends), keep_from, held_back_by)
    return plan if plan.dropped * 2 >= held else None


@dataclass(frozen=True)
class Trim:
    at: float  # time.time()
    ends: dict[Partition, int]
    keep_from: dict[Partition, int]
    carried: int
    dropped: int
    held_back_by: dict[Partition, str]


@dataclass
class BrokerTrim:
    """Checks the embedded broker every `check_every_s` and trims it when `plan_trim` says so.

    `restart` stops the broker and starts an empty one with the contract topics on the same
    address (`Stack.restart_broker`)."""
    servers: str
    restart: Callable[[], None]
    group_prefix: str
    retention_s: float
    max_messages: int
    check_every_s: float = CHECK_EVERY_S
    readers: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(CONSUMER_TOPICS))
    trims: deque[Trim] = field(default_factory=lambda: deque(maxlen=KEEP_TRIMS))
    _since: float = field(default_factory=time.monotonic)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "BrokerTrim":
        self._thread = threading.Thread(target=self._run, name="broker-trim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stopping.wait(self.check_every_s):
            try:
                self.trim_if_due()
            except Exception:  # a broker briefly away: look again at the next check
                log.warning("broker trim check failed", exc_info=True)

    def trim_if_due(self) -> Trim | None:
        ends = broker_io.true_end_offsets(self.servers)
        groups = {f"{self.group_prefix}-{service}": topics for service, topics in self.readers.items()}
        committed = {group: broker_io.committed_offsets(self.servers, group) for group in groups}
        plan = plan_trim(ends, committed, groups, held_for_s=time.monotonic() - self._since,
                         retention_s=self.retention_s, max_messages=self.max_messages)
        if plan is None or self._stopping.is_set():
            return None
        unread, ends = broker_io.read_from(self.servers, plan.keep_from)
        self.restart()
        self._since = time.monotonic()
        try:
            broker_io.produce(self.servers, unread)
        except Exception:
            log.error("broker trim: %d unread messages could not be produced again; the consumers' store sweeps"
                      " catch up their cases, the console's inbox misses them", len(unread), exc_info=True)
            raise
        trim = Trim(time.time(), ends, plan.keep_from, len(unread), sum(ends.values()) - len(unread),
                    plan.held_back_by)
        self.trims.append(trim)
        log.info("broker trimmed: %d messages dropped, %d unread ones carried over", trim.dropped, trim.carried)
        return trim
