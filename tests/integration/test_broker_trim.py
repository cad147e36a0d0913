"""A trim of the embedded broker, on a real Tansu of its own (no services): what every group has
committed is gone and its memory with it; what any reading group has not is still there, in order."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer

from estatedesk.config import Settings
from estatedesk.contracts import BILLING_EVENTS, CASE_EVENTS
from estatedesk.infra.broker_trim import BrokerTrim
from estatedesk.infra.embedded import EmbeddedBroker, free_port
from estatedesk.infra.stack import Stack
from tests.broker import committed_offsets, read_topics

PREFIX = "trimtest"
FILLER = json.dumps({"filler": "f" * 1000}).encode()


@pytest.fixture
def lone_broker(tmp_path):
    settings = Settings(estatedesk_group_prefix=PREFIX, database_url="postgresql://unused")
    stack = Stack(settings, tmp_path)
    stack.broker = EmbeddedBroker(free_port(), tmp_path / "broker.log").start()
    settings.kafka_bootstrap_servers = stack.broker.bootstrap_servers
    stack.create_topics()
    yield stack
    stack.stop()


async def _produce(servers: str, topic: str, partition: int, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, enable_idempotence=False, linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, v, key=b"k", partition=partition) for v in values]  # batches of several
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def _commit(servers: str, group: str, offsets: dict[tuple[str, int], int]) -> None:
    from kafka import TopicPartition
    from kafka.admin import KafkaAdminClient
    from kafka.structs import OffsetAndMetadata

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        admin.alter_group_offsets(group, {TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                                          for (t, p), o in offsets.items()})
    finally:
        admin.close()


async def test_a_trim_drops_what_every_reading_group_committed_and_carries_the_rest_over(lone_broker):
    servers = lone_broker.settings.kafka_bootstrap_servers
    case_values = {p: [{"partition": p, "n": i} for i in range(n)] for p, n in ((0, 40), (1, 20))}
    for partition, values in case_values.items():
        await _produce(servers, CASE_EVENTS, partition, [json.dumps(v).encode() for v in values])
    await _produce(servers, BILLING_EVENTS, 0, [FILLER] * 8000)  # 8 MB only analytics reads
    committed = {  # dispatch and sla read case-events, analytics every topic, the console neither of these
        "dispatch": {(CASE_EVENTS, 0): 25, (CASE_EVENTS, 1): 20},
        "sla": {(CASE_EVENTS, 0): 40, (CASE_EVENTS, 1): 20},
        "analytics": {(CASE_EVENTS, 0): 30, (CASE_EVENTS, 1): 10, (BILLING_EVENTS, 0): 8000},
    }
    for service, offsets in committed.items():
        await asyncio.to_thread(_commit, servers, f"{PREFIX}-{service}", offsets)
    rss_before = lone_broker.broker.rss_bytes()

    trimmer = BrokerTrim(servers, lambda: lone_broker.restart_broker(at_once=True), PREFIX, retention_s=3600, max_messages=1)
    trim = await asyncio.to_thread(trimmer.trim_if_due)

    assert trim.keep_from[(CASE_EVENTS, 0)] == 25 and trim.keep_from[(CASE_EVENTS, 1)] == 10
    assert trim.keep_from[(BILLING_EVENTS, 0)] == 8000
    assert (trim.dropped, trim.carried) == (25 + 10 + 8000, 15 + 10)
    contents = await read_topics(servers, (CASE_EVENTS, BILLING_EVENTS))
    on = {p: [value for topic, partition, _, _, value in contents.messages if (topic, partition) == (CASE_EVENTS, p)]
          for p in (0, 1)}
    assert on == {0: case_values[0][25:], 1: case_values[1][10:]}
    assert not [m for m in contents.messages if m[0] == BILLING_EVENTS]
    assert lone_broker.broker.rss_bytes() < rss_before - 5_000_000
    assert await committed_offsets(servers, f"{PREFIX}-dispatch") == {}  # the groups rejoin and start at 0


async def test_nothing_is_trimmed_while_every_group_is_still_at_the_start(lone_broker):
    servers = lone_broker.settings.kafka_bootstrap_servers
    await _produce(servers, CASE_EVENTS, 0, [b"{}"] * 10)
    trimmer = BrokerTrim(servers, lambda: lone_broker.restart_broker(at_once=True), PREFIX, retention_s=3600, max_messages=1)
    assert await asyncio.to_thread(trimmer.trim_if_due) is None
    assert len((await read_topics(servers, (CASE_EVENTS,))).messages) == 10
