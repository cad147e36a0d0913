"""What the broker holds, asked of the broker itself: end offsets, a group's committed
offsets, every message of a topic; and what each consumer's store sweep says it recovered.

kafka-python serves the admin questions (its group consumer is slow to join, so it joins
no group here); aiokafka reads topics by assigning partitions, without a group either.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from estatedesk.infra import broker_io
from estatedesk.messaging import kafka
from estatedesk.infra.broker_trim import CONSUMER_TOPICS

# What each consuming service with a store sweep reads (its faust agents' topics) and its tracking name.
CONSUMERS = {service: (tracking, CONSUMER_TOPICS[service])
             for service, tracking in (("dispatch", "dispatch"), ("sla", "sla"), ("analytics", "analytics.case_views"))}


def _partitions(servers: str, topics: tuple[str, ...]) -> dict[str, int] | None:
    on_broker = kafka.topic_partitions(servers)
    return {t: on_broker[t] for t in topics} if set(topics) <= set(on_broker) else None


async def topic_partitions(servers: str, topics: tuple[str, ...]) -> dict[str, int] | None:
    """Topic → partition count once every one of `topics` exists; None while any is missing."""
    return await asyncio.to_thread(_partitions, servers, topics)


async def end_offsets(servers: str, topics: tuple[str, ...]) -> dict[tuple[str, int], int]:
    """(topic, partition) → the offset the next message will get."""
    return await asyncio.to_thread(broker_io.end_offsets, servers, topics)


async def committed_offsets(servers: str, group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) → the offset the consumer group has committed (only those it has)."""
    return await asyncio.to_thread(broker_io.committed_offsets, servers, group)


@dataclass
class TopicContents:
    messages: list[tuple[str, int, int, str, dict]]  # (topic, partition, offset, key, envelope)
    ends: dict[tuple[str, int], int]  # (topic, partition) -> one past its last message


async def read_topics(servers: str, topics: tuple[str, ...]) -> TopicContents:
    """Every envelope now on the topics, each partition in offset order (a message that is not
    JSON, as a poison test sends, counts for the ends but is left out).

    The ends are taken from what was read: Tansu reports a partition's end offset as one
    past the first record of its newest batch, so after a batch of two (intake relays
    CaseReceived with WarrantyDetermined) it is one short. Reading up to the reported end
    still fetches that whole batch."""
    reported = await end_offsets(servers, topics)
    ends = dict(reported)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, fetch_max_wait_ms=10)
    await consumer.start()
    try:
        wanted = [TopicPartition(t, p) for (t, p), end in reported.items() if end > 0]
        found: list[tuple[str, int, int, str, dict]] = []
        if wanted:
            consumer.assign(wanted)
            await consumer.seek_to_beginning(*wanted)
        deadline = time.monotonic() + 30
        while wanted and any([await consumer.position(tp) < reported[(tp.topic, tp.partition)] for tp in wanted]):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topics} up to {reported} within 30 s")
            batch = await consumer.getmany(*wanted, timeout_ms=1000)
            for messages in batch.values():
                for m in messages:
                    ends[(m.topic, m.partition)] = max(ends[(m.topic, m.partition)], m.offset + 1)
                    try:
                        found.append((m.topic, m.partition, m.offset, m.key.decode(), json.loads(m.value)))
                    except (ValueError, AttributeError):  # a poison message a delivery test sent: no envelope
                        continue
        return TopicContents(found, ends)
    finally:
        await consumer.stop()


async def sweep_recovered(stack) -> dict[str, float]:
    """Service → cases its store sweep has caught up since it started (its /metrics)."""
    counts = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for service, (consumer, _) in CONSUMERS.items():
            text = (await client.get(f"{stack.url(service)}/metrics")).text
            [value] = [s.value for family in text_string_to_metric_families(text) for s in family.samples
                       if s.name == "estatedesk_sweep_recovered_cases_total" and s.labels["consumer"] == consumer]
            counts[service] = value
    return counts


async def swept_up(pool, case_ids: list[str]) -> dict[str, set[str]]:
    """Consumer → which of `case_ids` its store sweep had to catch up (sweep_recoveries)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT consumer, case_id FROM sweep_recoveries WHERE case_id = ANY($1)", case_ids)
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["consumer"], set()).add(row["case_id"])
    return found


async def applied_what_each_hears_of(pool, case_id: str) -> dict[str, int] | None:
    """Consumer (tracking name) → its position on the case, once each consumer has applied the
    case's newest event of the types it is notified of; None before. (A consumer's position may
    stay short of the case's newest event, one of another service it never hears of.)"""
    from estatedesk.contracts.topology import notified_event_types

    async with pool.acquire() as conn:
        positions = {r["consumer"]: r["position"] for r in await conn.fetch(
            "SELECT consumer, position FROM case_positions WHERE case_id = $1", case_id)}
        for service, (consumer, _) in CONSUMERS.items():
            newest = await conn.fetchval("SELECT max(position) FROM events WHERE case_id = $1 AND event_type = ANY($2)",
                                         case_id, list(notified_event_types(service)))
            if newest is None or positions.get(consumer, 0) < newest:
                return None
    return {consumer: positions[consumer] for consumer, _ in CONSUMERS.values()}
