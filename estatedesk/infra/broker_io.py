"""The broker questions a trim asks, with kafka-python (blocking: the trim runs in its own thread)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from estatedesk.contracts import TOPICS
from estatedesk.messaging import kafka

Partition = tuple[str, int]
READ_TIMEOUT_S = 10.0
READ_ROUNDS = 3


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp_ms: int


def _admin(servers: str):
    return kafka._admin(servers, 5000)


def end_offsets(servers: str, topics: tuple[str, ...] = TOPICS) -> dict[Partition, int]:
    """(topic, partition) → the end offset Tansu reports: one past the first record of the
    newest batch, so short of the true end when that batch holds more than one record."""
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec

    admin = _admin(servers)
    try:
        partitions = [TopicPartition(t["name"], p["partition_index"])
                      for t in admin.describe_topics(list(topics)) for p in t["partitions"]]
        answer = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        return {(tp.topic, tp.partition): o.offset for tp, o in answer.items()}
    finally:
        admin.close()


def committed_offsets(servers: str, group: str) -> dict[Partition, int]:
    """(topic, partition) → the group's committed offset, for the partitions it has committed."""
    admin = _admin(servers)
    try:
        answer = admin.list_group_offsets({group: None})[group]
        return {(tp.topic, tp.partition): o.offset for tp, o in answer.items() if o.offset >= 0}
    finally:
        admin.close()


def _consumer(servers: str):
    from kafka import KafkaConsumer

    return KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, group_id=None,
                         fetch_max_wait_ms=10, client_id="estatedesk-broker-trim")


def true_end_offsets(servers: str, topics: tuple[str, ...] = TOPICS) -> dict[Partition, int]:
    """(topic, partition) → one past its last message, found by reading its newest batch."""
    from kafka import TopicPartition

    ends = end_offsets(servers, topics)
    newest = {p: end - 1 for p, end in ends.items() if end > 0}
    if not newest:
        return ends
    consumer = _consumer(servers)
    try:
        consumer.assign([TopicPartition(*p) for p in newest])
        for p, offset in newest.items():
            consumer.seek(TopicPartition(*p), offset)
        unseen, deadline = set(newest), time.monotonic() + READ_TIMEOUT_S
        while unseen:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read the newest batch of {sorted(unseen)} in {READ_TIMEOUT_S} s")
            for tp, records in consumer.poll(timeout_ms=200).items():
                p = (tp.topic, tp.partition)
                ends[p] = max([ends[p], *(r.offset + 1 for r in records)])
                unseen.discard(p)
        return ends
    finally:
        consumer.close()


def read_from(servers: str, keep_from: dict[Partition, int]) -> tuple[list[Message], dict[Partition, int]]:
    """Every message from `keep_from` on, each partition in order, and the true end offsets.

    Reads again what was relayed while it read, a few rounds at most: under a steady load the
    end never stops moving, and what arrives after the last round is the sweeps' to recover."""
    from kafka import TopicPartition

    consumer = _consumer(servers)
    try:
        partitions = {p: TopicPartition(*p) for p in keep_from}
        consumer.assign(list(partitions.values()))
        for p, tp in partitions.items():
            consumer.seek(tp, keep_from[p])
        read_to = dict(keep_from)  # the consumer's position
        last_kept = {p: offset - 1 for p, offset in keep_from.items()}
        reported = {p: -1 for p in keep_from}
        found: list[Message] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        for _ in range(READ_ROUNDS):
            latest = {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(list(partitions.values())).items()}
            if latest == reported:
                break
            for p, end in latest.items():
                if end != reported[p] and 0 < end <= read_to[p]:  # its newest batch may hold records past `end`
                    consumer.seek(partitions[p], end - 1)
                    read_to[p] = end - 1
            reported = latest
            while any(read_to[p] < end for p, end in reported.items()):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not read the broker up to {reported} in {READ_TIMEOUT_S} s")
                for tp, records in consumer.poll(timeout_ms=200).items():
                    p = (tp.topic, tp.partition)
                    for r in records:
                        read_to[p] = max(read_to[p], r.offset + 1)
                        if r.offset > last_kept[p]:
                            found.append(Message(tp.topic, tp.partition, r.key, r.value,
                                                 list(r.headers or []), r.timestamp))
                            last_kept[p] = r.offset
        return found, read_to
    finally:
        consumer.close()


def produce(servers: str, messages: list[Message]) -> None:
    """Produce the messages again, each to its partition, in their order."""
    if not messages:
        return
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5,
                             max_in_flight_requests_per_connection=1, client_id="estatedesk-broker-trim")
    try:
        for m in messages:
            producer.send(m.topic, value=m.value, key=m.key, headers=m.headers or None,
                          partition=m.partition, timestamp_ms=m.timestamp_ms)
        producer.flush(READ_TIMEOUT_S)
    finally:
        producer.close()
