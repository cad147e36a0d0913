"""Delivery under failure: broker outages, relay crashes, redelivered and missing messages."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from datetime import datetime, timezone

from aiokafka import AIOKafkaProducer

from estatedesk.contracts import CASE_EVENTS, DISPATCH_EVENTS, Envelope, derived_event_id
from estatedesk.eventstore import EventStore
from tests.broker import end_offsets, sweep_recovered
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


async def test_replayed_messages_change_nothing(stack, intake, pool):
    case_id = (await intake.post("/v1/cases", json=repair_case())).json()["case_id"]
    before = (await eventually(lambda: _settled(pool, case_id), what="settled view"))[case_id]
    store = EventStore(pool)
    async with pool.acquire() as conn:
        obligations_before = await conn.fetch("SELECT state, next_due_at FROM sla_cases WHERE case_id = $1", case_id)

    case_events = await store.read_stream(case_id)
    dispatch = _dispatch_event(case_events[0])
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for _ in range(3):
            for event in case_events:
                await producer.send_and_wait(CASE_EVENTS, event.to_bytes(), key=case_id.encode())
            await producer.send_and_wait(DISPATCH_EVENTS, dispatch.to_bytes(), key=case_id.encode())
        marker = (await intake.post("/v1/cases", json=repair_case(title="marker"))).json()["case_id"]
    finally:
        await producer.stop()
    # The marker was published after the replays on the same topics; once it is projected
    # the replays have been consumed too (per-partition order, single consumer).
    await eventually(lambda: _all_projected(pool, [marker]), what="marker projected")
    after = (await _views(pool, [case_id]))[case_id]
    assert after == before
    async with pool.acquire() as conn:
        assert await conn.fetch("SELECT state, next_due_at FROM sla_cases WHERE case_id = $1", case_id) == obligations_before


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
    before = await sweep_recovered(stack)
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
    assert (await sweep_recovered(stack))["dispatch"] - before["dispatch"] >= len(case_ids)


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

    async def dead_lettered():
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT consumer FROM dead_letters WHERE event_id = $1", str(poison_id))
        return {r["consumer"] for r in rows} >= {"dispatch", "sla", "analytics.case_views"}
    await eventually(dead_lettered, what="poison message dead-lettered by every consumer")


async def test_operators_list_dead_letters_and_requeue_the_ones_a_consumer_can_apply(stack, intake, pool):
    import os
    import subprocess
    import sys

    case_id = (await intake.post("/v1/cases", json=repair_case(title="Set aside by a bug"))).json()["case_id"]
    [stored] = (await EventStore(pool).read_stream(case_id))[:1]
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO dead_letters (consumer, event_id, event_type, error, message)"
                           " VALUES ('analytics.case_views', $1, 'CaseReceived', 'a bug, since fixed', $2)",
                           str(stored.event_id), stored.to_bytes())

    def cli(*args):
        env = {**os.environ, "DATABASE_URL": stack.settings.database_url}
        return subprocess.run([sys.executable, "-m", "estatedesk.cli", "dead-letters", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    listed = await asyncio.to_thread(cli)
    assert listed.returncode == 0 and "a bug, since fixed" in listed.stdout, listed.stderr
    requeued = await asyncio.to_thread(cli, "--requeue")
    assert requeued.returncode == 0 and "requeued" in requeued.stdout, requeued.stderr
    async with pool.acquire() as conn:
        left = await conn.fetch("SELECT event_id FROM dead_letters")
    assert str(stored.event_id) not in {r["event_id"] for r in left}
    assert len(left) > 0  # the poison messages that were never stored stay for inspection
