"""The Kafka path alone. On the broker stack the store sweep waits an hour before it takes up
an event, so whatever dispatch, SLA and analytics apply there reached them as a message;
each test also reads the sweeps' own counters (0) and asks the broker what the consumer
groups committed and in what order the messages sit on the topics."""
from __future__ import annotations

import asyncio
from collections import defaultdict

from estatedesk.contracts import BILLING_EVENTS, CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS, topic_of
from tests.broker import (
    CONSUMERS, TopicContents, committed_offsets, end_offsets, read_topics, sweep_recovered, topic_partitions,
)
from tests.conftest import token_for
from tests.support import eventually, repair_case

TOPICS = (CASE_EVENTS, DISPATCH_EVENTS, SLA_EVENTS, BILLING_EVENTS)
NOTHING_RECOVERED = {"dispatch": 0, "sla": 0, "analytics": 0}


async def _views(analytics, case_ids) -> dict[str, dict]:
    views = {}
    for case_id in case_ids:
        response = await analytics.get(f"/v1/cases/{case_id}")
        if response.status_code == 200:
            views[case_id] = response.json()
    return views


def _worked_by_every_consumer(view: dict) -> bool:
    """Dispatch decided (it read case-events), SLA started the case's clocks and, for a repair,
    saw the decision meet engineering's deadline (dispatch-events), and analytics holds all
    of it (every topic)."""
    if view["status"] != "dispatched" or not view["deadlines"]:
        return False
    return view["type"] != "repair" or all(d["met_at"] for d in view["deadlines"])


async def _post(intake, bodies) -> list[str]:
    case_ids = []
    for body in bodies:
        response = await intake.post("/v1/cases", json=body)
        assert response.status_code == 201, response.text
        case_ids.append(response.json()["case_id"])
    return case_ids


async def _flowed(analytics, case_ids, timeout: float = 20.0) -> dict[str, dict]:
    async def done():
        views = await _views(analytics, case_ids)
        return views if len(views) == len(case_ids) and all(map(_worked_by_every_consumer, views.values())) else None
    return await eventually(done, timeout=timeout, what="cases dispatched, timed and projected")


async def _groups_at_the_end(stack) -> TopicContents | None:
    """What the topics hold, once every consumer group has committed up to their ends."""
    servers = stack.settings.kafka_bootstrap_servers
    contents = await read_topics(servers, TOPICS)
    for service, (_, topics) in CONSUMERS.items():
        committed = await committed_offsets(servers, f"{stack.settings.estatedesk_group_prefix}-{service}")
        if any(committed.get(tp, 0) != end for tp, end in contents.ends.items() if tp[0] in topics):
            return None
    return contents


async def test_posted_cases_are_dispatched_timed_and_projected_through_the_broker(
        broker_stack, broker_intake, broker_analytics):
    emergency = repair_case(type="help", category="medical", title="Resident collapsed in the lobby", repair=None,
                            help={"serious": True}, location={"area": "lobby"})
    case_ids = await _post(broker_intake, [repair_case(title=f"Leak {i}") for i in range(4)] + [emergency])

    views = await _flowed(broker_analytics, case_ids)

    assert [views[c]["departments"] for c in case_ids] == [["engineering"]] * 4 + [["security", "customer_service"]]
    assert [(e["level"], e["to_role"]) for e in views[case_ids[-1]]["escalations"]] == [(1, "estate_manager")]
    for view in views.values():
        kinds = [h["event_type"] for h in view["history"]]
        assert kinds.count("CaseReceived") == 1 and kinds.count("CaseDispatched") == 1, view["case_id"]
    assert await sweep_recovered(broker_stack) == NOTHING_RECOVERED


async def test_every_consumer_group_commits_to_the_end_of_its_topics_having_applied_each_message(
        broker_stack, broker_intake, broker_analytics, broker_pool):
    case_ids = await _post(broker_intake, [repair_case(title=f"Drip {i}") for i in range(3)])
    await _flowed(broker_analytics, case_ids)
    contents = await eventually(lambda: _groups_at_the_end(broker_stack), timeout=30, interval=0.5,
                                what="every group committed up to the end of its topics")

    messages = contents.messages
    assert set(case_ids) <= {key for *_, key, _ in messages}
    async with broker_pool.acquire() as conn:
        position = {str(r["event_id"]): r["position"] for r in await conn.fetch(
            "SELECT event_id, position FROM events WHERE event_id = ANY($1::uuid[])",
            list({m["event_id"] for *_, m in messages}))}
        applied = defaultdict(dict)
        for r in await conn.fetch("SELECT consumer, case_id, position FROM case_positions"):
            applied[r["consumer"]][r["case_id"]] = r["position"]
    for service, (consumer, topics) in CONSUMERS.items():
        unapplied = [(topic, key, m["event_type"]) for topic, _, _, key, m in messages
                     if topic in topics and applied[consumer].get(key, 0) < position[m["event_id"]]]
        assert unapplied == [], f"{service} committed past messages it never applied"
    assert await sweep_recovered(broker_stack) == NOTHING_RECOVERED


async def _walk(broker_stack, intake, analytics, case_id: str) -> None:
    staff = token_for(broker_stack, "department_staff", ("E001",), "e001-eng-sun")
    await _flowed(analytics, [case_id])
    for command, body in (("accept", {}), ("start", {}), ("pause", {"reason": "waiting_on_parts"}),
                          ("resume", {}), ("progress", {"note": "trap on order"}),
                          ("complete", {"result": "trap replaced",
                                        "charge_lines": [{"item_code": "PL-TRAP", "quantity": 1}]})):
        response = await intake.post(f"/v1/cases/{case_id}/{command}", json=body, headers=staff)
        assert response.status_code == 200, f"{command}: {response.text}"


async def _settled(pool, case_ids):
    """The cases' stored events once none is waiting in the outbox and every consumer has
    applied each one on the topics it reads: nothing more will follow."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        if await conn.fetchval("SELECT count(*) FROM outbox WHERE key = ANY($1)", case_ids):
            return None
        rows = await conn.fetch("SELECT case_id, event_id, event_type, position FROM events"
                                " WHERE case_id = ANY($1) ORDER BY position", case_ids)
        applied = {(r["consumer"], r["case_id"]): r["position"] for r in await conn.fetch(
            "SELECT consumer, case_id, position FROM case_positions WHERE case_id = ANY($1)", case_ids)}
    for consumer, topics in CONSUMERS.values():
        if any(applied.get((consumer, r["case_id"]), 0) < r["position"]
               for r in rows if topic_of(r["event_type"]) in topics):
            return None
    return rows


async def test_each_cases_messages_sit_on_every_topic_in_the_order_of_the_store(
        broker_stack, broker_intake, broker_analytics, broker_pool):
    case_ids = await _post(broker_intake, [repair_case(title=f"Trap {i}") for i in range(3)])
    await asyncio.gather(*(_walk(broker_stack, broker_intake, broker_analytics, c) for c in case_ids))

    rows = await eventually(lambda: _settled(broker_pool, case_ids), what="walked cases relayed and applied")
    stored: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if topic_of(r["event_type"]):
            stored[(topic_of(r["event_type"]), r["case_id"])].append(str(r["event_id"]))

    on_topic: dict[tuple[str, str], list[str]] = defaultdict(list)
    partitions: dict[tuple[str, str], set[int]] = defaultdict(set)
    contents = await read_topics(broker_stack.settings.kafka_bootstrap_servers, TOPICS)
    for topic, partition, _, key, message in contents.messages:
        if key in case_ids:
            assert message["case_id"] == key
            partitions[(topic, key)].add(partition)
            if message["event_id"] not in on_topic[(topic, key)]:  # at least once: a repeat may follow
                on_topic[(topic, key)].append(message["event_id"])

    assert dict(on_topic) == dict(stored)
    assert all(len(p) == 1 for p in partitions.values())  # one case, one partition per topic
    walked = {CASE_EVENTS: ["CaseReceived", "WarrantyDetermined", "CaseAccepted", "WorkStarted", "WorkPaused",
                            "WorkResumed", "ProgressNoted", "WorkCompleted"],
              DISPATCH_EVENTS: ["CaseDispatched"], SLA_EVENTS: ["SlaClockStarted", "SlaMet", "SlaClockStarted"],
              BILLING_EVENTS: ["ChargeableWorkCompleted"]}
    kinds = {str(r["event_id"]): r["event_type"] for r in rows}
    for case_id in case_ids:
        assert {topic: [kinds[e] for e in on_topic[(topic, case_id)]] for topic in TOPICS} == walked
    assert await sweep_recovered(broker_stack) == NOTHING_RECOVERED


async def test_after_the_broker_restarts_empty_the_services_recreate_the_topics_and_cases_flow_again(
        broker_stack, broker_intake, broker_analytics):
    servers = broker_stack.settings.kafka_bootstrap_servers
    await asyncio.to_thread(broker_stack.restart_broker, create_topics=False)  # nobody runs `estatedesk topics`
    partitions = await eventually(lambda: topic_partitions(servers, TOPICS), timeout=15, interval=0.2,
                                  what="the services' topic guards recreated every contract topic")
    # Created by a guard with the configured count, or by a client's metadata request first
    # (Tansu auto-creates with its own default, at least as many): never fewer.
    assert all(n >= broker_stack.settings.estatedesk_topic_partitions for n in partitions.values()), partitions
    ends = await end_offsets(servers, TOPICS)
    assert set(ends.values()) == {0}  # memory storage: every message is gone

    case_ids = await _post(broker_intake, [repair_case(title=f"After restart {i}") for i in range(3)])
    await _flowed(broker_analytics, case_ids, timeout=60)  # the consumers rejoin their groups first
    assert await sweep_recovered(broker_stack) == NOTHING_RECOVERED
    contents = await eventually(lambda: _groups_at_the_end(broker_stack), timeout=30, interval=0.5,
                                what="every group committed up to the new end of its topics")
    assert set(case_ids) <= {key for *_, key, _ in contents.messages}
