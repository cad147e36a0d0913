"""Kafka plumbing shared by the services: the outbox publisher and topic administration."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from estatedesk.contracts import TOPICS

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """Some messages of a batch were not acknowledged; the first `acknowledged` were, in order."""

    def __init__(self, acknowledged: int, cause: BaseException):
        super().__init__(f"{acknowledged} acknowledged before {type(cause).__name__}: {cause}")
        self.acknowledged = acknowledged


class KafkaPublisher:
    """Publishes outbox batches; idempotent producers are unavailable on Tansu, so
    delivery is at least once and ordering per key rests on one in-flight batch per
    partition (aiokafka's default)."""

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 5000,
                 topics: tuple[int, int] | None = None):
        self._servers = bootstrap_servers
        self._timeout_ms = request_timeout_ms
        self._topics = topics  # (partitions, replication) to create missing topics with
        self._producer: AIOKafkaProducer | None = None

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            if self._topics is not None:
                # Before the producer's first metadata request: on a broker that auto-creates
                # topics (Tansu does), that request would create them with its own partition count.
                await asyncio.to_thread(ensure_topics, self._servers, *self._topics)
            producer = AIOKafkaProducer(
                bootstrap_servers=self._servers,
                acks="all",
                linger_ms=2,
                request_timeout_ms=self._timeout_ms,
                enable_idempotence=False,
            )
            try:
                await asyncio.wait_for(producer.start(), self._timeout_ms / 1000)
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def publish(self, batch: list[tuple[str, str, bytes]]) -> None:
        producer = await self._ready()
        futures = [await producer.send(topic, value=msg, key=key.encode()) for topic, key, msg in batch]
        try:
            await asyncio.wait_for(asyncio.wait(futures), self._timeout_ms / 1000 + 1)
        except asyncio.TimeoutError:
            pass
        acknowledged = 0
        for future in futures:
            if not future.done() or future.cancelled() or future.exception() is not None:
                break
            acknowledged += 1
        if acknowledged == len(futures):
            return
        for future in futures:
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved, so asyncio does not report it as lost
        # A fresh producer next time: it checks the topics again (the broker may have come
        # back empty) and no stale metadata survives.
        await self.close()
        first = next((f for f in futures if f.done() and not f.cancelled() and f.exception()), None)
        raise PublishFailed(acknowledged, first.exception() if first else asyncio.TimeoutError())

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


@dataclass
class TopicRepair:
    created: list[str] = field(default_factory=list)
    grown: dict[str, tuple[int, int]] = field(default_factory=dict)  # topic -> (partitions before, after)
    cannot_grow: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.created or self.grown)

    def describe(self) -> str:
        parts = [f"created {', '.join(self.created)}"] if self.created else []
        parts += [f"grew {t} from {a} to {b} partitions" for t, (a, b) in self.grown.items()]
        parts += [f"{t} has {a} partitions, not {b}, and this broker cannot add any"
                  for t, (a, b) in self.cannot_grow.items()]
        return "; ".join(parts) or "nothing to repair"


def repairs_needed(existing: dict[str, int], partitions: int) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Which contract topics are missing and which have fewer partitions than configured (a
    client's auto-creation may have made them with the broker's default). More partitions
    than configured are left alone: partitions can only grow."""
    missing = [t for t in TOPICS if t not in existing]
    short = {t: (existing[t], partitions) for t in TOPICS if t in existing and existing[t] < partitions}
    return missing, short


def ensure_topics(bootstrap_servers: str, partitions: int, replication: int, admin=None) -> TopicRepair:
    """Create the contract topics that are missing and grow those with too few partitions."""
    from kafka.admin import NewPartitions, NewTopic
    from kafka.errors import IncompatibleBrokerVersion, TopicAlreadyExistsError

    own = admin is None
    admin = admin or _admin(bootstrap_servers, 5000)
    try:
        names = set(admin.list_topics())
        described = admin.describe_topics([t for t in TOPICS if t in names]) if names & set(TOPICS) else []
        existing = {t["name"]: len(t["partitions"]) for t in described if not t.get("error_code")}
        missing, short = repairs_needed(existing, partitions)
        repair = TopicRepair()
        if missing:
            try:
                admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
            except TopicAlreadyExistsError:  # another service repaired it first
                pass
            repair.created = missing
        if short:
            try:
                admin.create_partitions({t: NewPartitions(total_count=after) for t, (_, after) in short.items()})
                repair.grown = short
            except IncompatibleBrokerVersion:  # Tansu cannot add partitions; the topic still works
                repair.cannot_grow = short
        return repair
    finally:
        if own:
            admin.close()


class TopicGuard:
    """Every service checks now and then that the contract topics exist as configured and
    repairs them (a broker on memory storage restarts empty; production topics may be deleted
    by mistake). Creating an existing topic is refused harmlessly, so every service may guard."""

    def __init__(self, bootstrap_servers: str, partitions: int, replication: int, *, interval_s: float):
        self._servers, self._partitions, self._replication = bootstrap_servers, partitions, replication
        self._interval = interval_s
        self._admin = None
        self.repairs = 0

    def _check(self) -> TopicRepair:
        if self._admin is None:
            self._admin = _admin(self._servers, 5000)
        try:
            return ensure_topics(self._servers, self._partitions, self._replication, admin=self._admin)
        except Exception:
            admin, self._admin = self._admin, None
            admin.close()
            raise

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                repair = await asyncio.to_thread(self._check)
                if repair:
                    self.repairs += 1
                    log.warning("contract topics repaired: %s", repair.describe())
                elif repair.cannot_grow:
                    log.warning("contract topics: %s", repair.describe())
            except Exception as exc:  # broker away: the next round tries again
                log.warning("cannot check the contract topics (%s)", type(exc).__name__)
            try:
                await asyncio.wait_for(stop.wait(), self._interval)
            except asyncio.TimeoutError:
                pass
        if self._admin is not None:
            await asyncio.to_thread(self._admin.close)


def create_topics(bootstrap_servers: str, partitions: int, replication: int) -> list[str]:
    """Create the contract topics that do not exist yet; returns the ones created."""
    return ensure_topics(bootstrap_servers, partitions, replication).created


def _admin(bootstrap_servers: str, timeout_ms: int):
    from kafka.admin import KafkaAdminClient

    class Admin(KafkaAdminClient):
        # Tansu answers a group's authorized operations with bits kafka-python's ACL enum does
        # not know, and kafka-python fails parsing them even when none were asked for. They
        # are not needed here, so they are dropped before parsing.
        def _process_acl_operations(self, obj):
            obj.pop("authorized_operations", None)
            return obj

    return Admin(bootstrap_servers=bootstrap_servers, client_id="estatedesk-admin",
                 request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)


def topic_partitions(bootstrap_servers: str, timeout_ms: int = 5000) -> dict[str, int]:
    """Every topic on the broker and how many partitions it has."""
    admin = _admin(bootstrap_servers, timeout_ms)
    try:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    finally:
        admin.close()


def group_members(bootstrap_servers: str, groups: list[str], timeout_ms: int = 5000) -> dict[str, int]:
    """Consumer group → how many members it has now (0 for a group nobody joined)."""
    admin = _admin(bootstrap_servers, timeout_ms)
    try:
        return {group: len(described["members"]) for group, described in admin.describe_groups(groups).items()}
    finally:
        admin.close()
