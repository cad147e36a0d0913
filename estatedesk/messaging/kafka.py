"""Kafka plumbing shared by the services: the outbox publisher and topic administration."""
from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer

from estatedesk.contracts import TOPICS

log = logging.getLogger(__name__)


class KafkaPublisher:
    """Publishes outbox batches; idempotent producers are unavailable on Tansu, so
    delivery is at least once and ordering per key rests on one in-flight batch per
    partition (aiokafka's default)."""

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 5000):
        self._servers = bootstrap_servers
        self._timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is None:
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
            await asyncio.wait_for(asyncio.gather(*futures), self._timeout_ms / 1000 + 1)
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


def create_topics(bootstrap_servers: str, partitions: int, replication: int) -> list[str]:
    """Create the contract topics that do not exist yet; returns the ones created."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="estatedesk-admin")
    try:
        existing = set(admin.list_topics())
        missing = [t for t in TOPICS if t not in existing]
        if missing:
            admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
        return missing
    finally:
        admin.close()


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
