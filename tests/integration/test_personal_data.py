"""A resident's name and phone never travel on Kafka, whatever a client types, and erasure
reaches every place intake keeps them."""
from __future__ import annotations

import random
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition

from estatedesk.contracts import TOPICS
from tests.conftest import token_for
from tests.support import eventually, repair_case


async def _every_message(stack) -> list[bytes]:
    """Every message on every topic, from the beginning to the current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                fetch_max_wait_ms=10)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for topic in TOPICS
                      for p in (consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[bytes] = []

        async def drained() -> bool:
            for messages in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                found.extend(m.value for m in messages)
            positions = [await consumer.position(tp) for tp in partitions]
            return all(at >= ends[tp] for at, tp in zip(positions, partitions))
        await eventually(drained, timeout=60, what="every topic read to its end")
        return found
    finally:
        await consumer.stop()


async def _partitions(consumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # a topic nobody has read from yet in this client
    return consumer.partitions_for_topic(topic) or set()


async def test_after_a_whole_case_no_topic_holds_the_residents_name_or_phone(stack, intake, analytics, pool):
    name = f"居民{uuid.uuid4().hex[:6]}"
    phone = f"139{random.randrange(10**8):08d}"
    household = f"H-1-1-{uuid.uuid4().hex[:4].upper()}"
    desk = token_for(stack, "front_desk", ("E001",), "e001-desk-zhao")
    staff = token_for(stack, "department_staff", ("E001",), "e001-eng-sun")
    supervisor = token_for(stack, "supervisor", ("E001",), "e001-supervisor-qian")
    body = repair_case(reporter={"name": name, "phone": phone, "household_id": household},
                       location={"building": "1", "unit": "1", "room": "0101"})
    created = await intake.post("/v1/cases", json=body, headers=desk)
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]

    async def dispatched():
        view = (await analytics.get(f"/v1/cases/{case_id}", headers=desk)).json()
        return view if view.get("departments") else None
    await eventually(dispatched, what="the case routed")
    for command, who, payload in (("accept", staff, {}), ("start", staff, {}),
                                  ("complete", staff, {"result": f"fixed for {household}"}),
                                  ("inspect", desk, {"passed": True, "inspector_role": "owner"}),
                                  ("review", supervisor, {}),
                                  ("return-visit", desk, {"method": "phone", "satisfaction": "satisfied"})):
        answer = await intake.post(f"/v1/cases/{case_id}/{command}", json=payload, headers=who)
        assert answer.status_code == 200, f"{command}: {answer.text}"

    async def reviewed_on_the_wire():
        messages = await _every_message(stack)
        return messages if any(case_id.encode() in m and b"ReturnVisitRecorded" in m for m in messages) else None
    messages = await eventually(reviewed_on_the_wire, timeout=60, what="the whole case published")
    ours = [m for m in messages if case_id.encode() in m]
    assert len(ours) >= 8
    assert not [m for m in messages if name.encode() in m], "a resident's name travelled on Kafka"
    assert not [m for m in messages if phone.encode() in m], "a full phone number travelled on Kafka"
    assert any(f"{phone[:3]}****{phone[-4:]}".encode() in m for m in ours)  # the masked one does

    manager = token_for(stack, "estate_manager", ("E001",), "e001-manager-wei")
    erased = await intake.post(f"/v1/estates/E001/households/{household}/erase-personal-data", headers=manager)
    assert erased.status_code == 200 and erased.json()["cases_erased"] == 1
    async with pool.acquire() as conn:
        kept = await conn.fetch("SELECT name, phone FROM reporter_contacts WHERE case_id = $1", case_id)
        anywhere = await conn.fetchval(
            "SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%' OR payload::text LIKE '%' || $2 || '%'",
            name, phone)
    assert [tuple(r) for r in kept] == [(None, None)]
    assert anywhere == 0
    view = (await analytics.get(f"/v1/cases/{case_id}", headers=desk)).json()
    assert name not in str(view) and phone not in str(view)
