"""Delivery under failure: broker outages, relay crashes, redelivered and missing messages."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from estatedesk.contracts import CASE_EVENTS, DISPATCH_EVENTS, Envelope, derived_event_id
from estatedesk.eventstore import EventStore
from estatedesk.eventstore.tracking import lock_case
from services.analytics import projection
from tests.broker import applied_what_each_hears_of, end_offsets, swept_up
from tests.support import eventually, repair_case, stack_now


async def _views(pool, case_ids):
    async with pool.acquire() as conn:
        return {r["case_id"]: json.loads(r["view"]) for r in await conn.fetch(
            "SELECT case_id, view FROM case_views WHERE case_id = ANY($1)", list(case_ids))}


async def _all_projected(pool, case_ids, status="dispatched"):
    views = await _views(pool, case_ids)
    return len(views) == len(case_ids) and all(v["status"] == status for v in views.values()) and views


def _assert_exactly_once(views):
    for view in views.values():
        kinds = [h["event_type"] for h in view["history"]]
        assert kinds.count("CaseReceived") == 1, view["case_id"]
        assert kinds.count("CaseDispatched") == 1, view["case_id"]


async def _outbox_backlog(pool):
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM outbox")


async def test_cases_posted_while_the_broker_is_frozen_arrive_exactly_once(stack, intake, pool):
    broker = stack.broker.process
    os.kill(broker.pid, signal.SIGSTOP)
    try:
        responses = [await intake.post("/v1/cases", json=repair_case(title=f"Leak {i}")) for i in range(25)]
        assert [r.status_code for r in responses] == [201] * 25
        case_ids = [r.json()["case_id"] for r in responses]
        assert await _outbox_backlog(pool) > 0
    finally:
        os.kill(broker.pid, signal.SIGCONT)
    views = await eventually(lambda: _all_projected(pool, case_ids), timeout=60, what="all cases projected")
    _assert_exactly_once(views)
    await eventually(lambda: _outbox_backlog_is(pool, 0), what="outbox drained")


async def _outbox_backlog_is(pool, n):
    return await _outbox_backlog(pool) == n


async def test_a_killed_relay_resumes_from_its_outbox_after_restart(stack, intake, pool):
    broker = stack.broker.process
    os.kill(broker.pid, signal.SIGSTOP)
    try:
        responses = [await intake.post("/v1/cases", json=repair_case(title=f"Drip {i}")) for i in range(10)]
        case_ids = [r.json()["case_id"] for r in responses]
        stack.stop_service("intake", signal.SIGKILL)
    finally:
        os.kill(broker.pid, signal.SIGCONT)
    assert await _outbox_backlog(pool) >= 10
    stack.start_service("intake")
    await asyncio.to_thread(stack.wait_ready, "intake")
    views = await eventually(lambda: _all_projected(pool, case_ids), timeout=60, what="backlog relayed")
    _assert_exactly_once(views)


GROUPS = {"dispatch": (CASE_EVENTS,), "sla": (CASE_EVENTS, DISPATCH_EVENTS),
          "analytics": (CASE_EVENTS, DISPATCH_EVENTS)}  # consumer groups of the topics replayed below
CONSUMERS = ("dispatch", "sla", "analytics.case_views")


async def _consumer_state(pool, case_id):
    """What the consumers keep about a case: their positions, the view, SLA's and dispatch's rows."""
    async with pool.acquire() as conn:
        return {
            "positions": {r["consumer"]: r["position"] for r in await conn.fetch(
                "SELECT consumer, position FROM case_positions WHERE case_id = $1", case_id)},
            "view": json.loads(await conn.fetchval("SELECT view FROM case_views WHERE case_id = $1", case_id)),
            "sla": [tuple(r) for r in await conn.fetch(
                "SELECT state, next_due_at FROM sla_cases WHERE case_id = $1", case_id)],
            "dispatch": json.loads(await conn.fetchval("SELECT record FROM dispatch_cases WHERE case_id = $1",
                                                       case_id)),
            "events": await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1", case_id),
        }


async def _applied_by_every_consumer(pool, case_id):
    """The case as settled: dispatched, its deadline met, every consumer past each event it hears of."""
    if not await _settled(pool, case_id):
        return None
    async with pool.acquire() as conn:
        queued = await conn.fetchval("SELECT count(*) FROM outbox WHERE key = $1", case_id)
    return queued == 0 and await applied_what_each_hears_of(pool, case_id) and await _consumer_state(pool, case_id)


def _effects(state: dict) -> dict:
    """What a consumer did about a case, without its bookkeeping: a message it reads may move its
    position over the case's events of another service, which it never applies anything for."""
    return {k: v for k, v in state.items() if k != "positions"}


async def _committed_past(stack, sent):
    """Whether every consumer group has committed offsets past each replayed message."""
    for service, topics in GROUPS.items():
        group = AIOKafkaConsumer(bootstrap_servers=stack.settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                 group_id=f"{stack.settings.estatedesk_group_prefix}-{service}")
        await group.start()  # reads the group's offsets; never subscribes, so never joins it
        try:
            for tp, offset in sent.items():
                if tp.topic in topics and ((await group.committed(tp)) or 0) <= offset:
                    return False
        finally:
            await group.stop()
    return True


async def test_replayed_messages_change_nothing(stack, intake, pool):
    """Every message of a settled case delivered three times more, and a duplicate of dispatch's
    decision: each consumer reads them (its group commits past them, and a case sent after them
    on the same partitions is applied), finds nothing new in the store, and changes nothing."""
    case_id = (await intake.post("/v1/cases", json=repair_case(title="Delivered again"))).json()["case_id"]
    before = await eventually(lambda: _applied_by_every_consumer(pool, case_id), what="case applied by everyone")
    case_events = await EventStore(pool).read_stream(case_id)
    async with pool.acquire() as conn:
        head = await conn.fetchval("SELECT max(position) FROM events WHERE case_id = $1", case_id)
    duplicate = _dispatch_event(case_events[0])
    assert duplicate.event_id == (await _stored_decision(pool, case_id))  # the very decision, once more

    sent: dict[TopicPartition, int] = {}  # partition -> offset of the last replayed message on it
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for _ in range(3):
            for topic, event in [(CASE_EVENTS, e) for e in case_events] + [(DISPATCH_EVENTS, duplicate)]:
                at = await producer.send_and_wait(topic, event.to_bytes(), key=case_id.encode())
                sent[TopicPartition(topic, at.partition)] = at.offset
    finally:
        await producer.stop()
    partitions = stack.settings.estatedesk_topic_partitions
    partition = {tp.partition for tp in sent}
    assert partition == {_partition_of(case_id, partitions)} and len(sent) == 2  # one partition, on both topics

    # a marker: a case whose key lands on the same partitions, published after the replays
    for _ in range(40):
        marker = (await intake.post("/v1/cases", json=repair_case(title="Marker"))).json()["case_id"]
        if _partition_of(marker, partitions) in partition:
            break
    else:
        raise AssertionError("no marker case landed on the replayed partition")
    await eventually(lambda: _applied_by_every_consumer(pool, marker), what="marker applied by everyone")
    await eventually(lambda: _committed_past(stack, sent), what="every group committed past the replays")

    after = await _consumer_state(pool, case_id)
    assert _effects(after) == _effects(before)
    assert all(before["positions"][c] <= after["positions"][c] <= head for c in before["positions"])
    async with pool.acquire() as conn:
        set_aside = await conn.fetchval("SELECT count(*) FROM dead_letters WHERE event_id = ANY($1)",
                                        [str(e.event_id) for e in [*case_events, duplicate]])
    assert set_aside == 0  # read and found to be old news, not dead-lettered


async def _stored_decision(pool, case_id):
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT event_id FROM events WHERE stream_id = $1 AND event_type = 'CaseDispatched'",
                                   f"{case_id}/dispatch")


def _partition_of(key: str, partitions: int) -> int:
    """The partition the producers' default partitioner picks for `key`."""
    every = list(range(partitions))
    return DefaultPartitioner()(key.encode(), every, every)


async def _settled(pool, case_id):
    views = await _views(pool, [case_id])
    view = views.get(case_id)
    if view and view["status"] == "dispatched" and view["deadlines"] and view["deadlines"][0]["met_at"]:
        return views


def _dispatch_event(received: Envelope) -> Envelope:
    # the same decision the dispatch service made: same derived id, so consumers must drop it
    now = stack_now()
    return Envelope(
        event_id=derived_event_id("dispatch", received.event_id), event_type="CaseDispatched",
        case_id=received.case_id, estate_id=received.estate_id, occurred_at=now, recorded_at=now,
        producer="dispatch", correlation_id=received.correlation_id, causation_id=str(received.event_id),
        payload={"departments": ["engineering"], "priority": "normal", "rule": "repair", "rule_version": 1,
                 "dispatched_at": now.isoformat(), "coordinator": None, "assignee": None},
    )


async def test_cases_whose_messages_a_restarted_broker_lost_are_recovered_from_the_store(stack, intake, pool):
    """A broker on memory storage that restarts loses what was relayed but not yet consumed.
    The consumers are frozen while the cases are relayed and the broker restarts, so no
    message about these cases ever reaches them: only their store sweeps can find them."""
    frozen = [stack.processes[name].pid for name in ("dispatch", "sla", "analytics")]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        case_ids = [(await intake.post("/v1/cases", json=repair_case(title=f"Lost in transit {i}"))).json()["case_id"]
                    for i in range(5)]

        async def relayed():
            async with pool.acquire() as conn:
                return not await conn.fetchval("SELECT count(*) FROM outbox WHERE key = ANY($1)", case_ids)
        await eventually(relayed, what="the cases relayed to the broker")
        await asyncio.to_thread(stack.restart_broker)
        ends = await end_offsets(stack.settings.kafka_bootstrap_servers, (CASE_EVENTS,))
        assert set(ends.values()) == {0}  # their messages are gone with the old broker
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)

    async def all_settled():
        views = await _views(pool, case_ids)
        return len(views) == len(case_ids) and all(
            v["status"] == "dispatched" and v["deadlines"] and v["deadlines"][0]["met_at"] for v in views.values()
        ) and views
    views = await eventually(all_settled, timeout=60, what="cases recovered from the store")
    assert all(v["departments"] == ["engineering"] for v in views.values())
    _assert_exactly_once(views)
    # dispatch reads case-events alone, so its sweep is the only way it could have heard of them
    assert (await swept_up(pool, case_ids)).get("dispatch") == set(case_ids)


async def test_a_poison_message_is_set_aside_and_the_cases_behind_it_flow_on(stack, intake, pool):
    poison_id = uuid.uuid4()
    now = stack_now()
    bad_payload = Envelope(event_id=poison_id, event_type="CaseReceived", case_id="C-POISON", estate_id="E001",
                           stream_version=1, occurred_at=now, recorded_at=now, producer="intake",
                           correlation_id="x", payload={"n": 1})
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for partition_key in (b"a", b"b", b"c", b"d"):  # reach every partition
            await producer.send_and_wait(CASE_EVENTS, b"{not json", key=partition_key)
        await producer.send_and_wait(CASE_EVENTS, bad_payload.to_bytes(), key=b"C-POISON")
    finally:
        await producer.stop()
    case_ids = [(await intake.post("/v1/cases", json=repair_case(title=f"After poison {i}"))).json()["case_id"]
                for i in range(6)]
    await eventually(lambda: _all_projected(pool, case_ids), what="cases behind the poison projected")

    async def every_consumer_moved_on():
        return all([await applied_what_each_hears_of(pool, case_id) for case_id in case_ids])
    # a consumer still working off what earlier tests left it reaches these cases later, not never
    await eventually(every_consumer_moved_on, timeout=60, what="every consumer applied the cases behind the poison")

    async def dead_lettered():
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT consumer FROM dead_letters WHERE event_id = $1", str(poison_id))
        return {r["consumer"] for r in rows} >= {"dispatch", "sla", "analytics.case_views"}
    await eventually(dead_lettered, timeout=60, what="poison message dead-lettered by every consumer")


async def _view_gone_and_swept(pool, case_id):
    """Analytics' sweep has passed the case, so only a message can bring it back now."""
    async with pool.acquire() as conn:
        head = await conn.fetchval("SELECT max(position) FROM events WHERE case_id = $1", case_id)
        swept = await conn.fetchval("SELECT position FROM consumer_sweeps WHERE consumer = 'analytics.case_views'")
    return (swept or 0) >= head


async def test_operators_list_dead_letters_and_requeue_the_ones_a_consumer_can_apply(stack, intake, pool):
    case_id = (await intake.post("/v1/cases", json=repair_case(title="Set aside by a bug"))).json()["case_id"]
    before = (await eventually(lambda: _settled(pool, case_id), what="settled view"))[case_id]
    await eventually(lambda: _view_gone_and_swept(pool, case_id), what="the sweep past the case")
    [stored] = (await EventStore(pool).read_stream(case_id))[:1]
    never_stored = _dispatch_event(stored).model_copy(update={"event_id": uuid.uuid4(), "case_id": "C-NOWHERE"})
    async with pool.acquire() as conn, conn.transaction():
        # as if analytics had set the case's message aside: it never applied the case
        await lock_case(conn, "analytics.case_views", case_id)
        await projection.forget(conn, [case_id])
        await conn.execute("DELETE FROM case_positions WHERE consumer = 'analytics.case_views' AND case_id = $1",
                           case_id)
        await conn.executemany(
            "INSERT INTO dead_letters (consumer, event_id, event_type, error, message)"
            " VALUES ('analytics.case_views', $1, $2, $3, $4)",
            [(str(stored.event_id), "CaseReceived", "a bug, since fixed", stored.to_bytes()),
             (str(never_stored.event_id), "CaseDispatched", "never stored", never_stored.to_bytes())])

    def cli(*args):
        env = {**os.environ, "DATABASE_URL": stack.settings.database_url}
        return subprocess.run([str(Path(sys.executable).parent / "estatedesk"), "dead-letters", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    listed = await asyncio.to_thread(cli)
    assert listed.returncode == 0 and "a bug, since fixed" in listed.stdout, listed.stderr
    assert (await _views(pool, [case_id])) == {}  # nothing brings the case back by itself
    requeued = await asyncio.to_thread(cli, "--requeue")
    assert requeued.returncode == 0 and "requeued" in requeued.stdout, requeued.stderr

    # the requeued message is applied: analytics builds the case again from the store
    after = (await eventually(lambda: _settled(pool, case_id), what="the requeued case applied"))[case_id]
    assert after == before
    _assert_exactly_once({case_id: after})
    async with pool.acquire() as conn:
        left = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM dead_letters")}
    assert str(stored.event_id) not in left
    assert str(never_stored.event_id) in left  # no stored event to catch up: it stays for inspection
