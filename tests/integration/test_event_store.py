"""The event store on a real PostgreSQL: optimistic concurrency, global order, outbox."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest

from estatedesk.contracts import Envelope
from estatedesk.eventstore import ConcurrencyConflict, EventStore
from tests.support import stack_now


PAYLOADS = {"CaseDispatched": {"departments": [], "rule": "test", "dispatched_at": "2026-11-22T09:30:00Z"}}


def _event(stream: str, version: int, kind: str = "EstateConfigured") -> Envelope:
    # by default a type no consumer acts on: these streams exercise the store, not the services
    now = stack_now()
    return Envelope(event_id=uuid.uuid4(), event_type=kind, case_id=stream, estate_id="E001",
                    stream_version=version, occurred_at=now, recorded_at=now, producer="test",
                    correlation_id="test", payload=PAYLOADS.get(kind, {"name": f"v{version}"}))


async def _counts(pool, stream):
    async with pool.acquire() as conn:
        return (await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream),
                await conn.fetchval("SELECT count(*) FROM outbox WHERE key = $1", stream))


async def test_a_conflicting_append_is_refused_and_writes_nothing(pool):
    store, stream = EventStore(pool), f"T-{uuid.uuid4().hex}"
    await store.append(stream, 0, [_event(stream, 1)])
    before = await _counts(pool, stream)

    with pytest.raises(ConcurrencyConflict) as refused:
        await store.append(stream, 0, [_event(stream, 1)])
    assert (refused.value.expected, refused.value.actual) == (0, 1)
    assert await _counts(pool, stream) == before
    assert [e.stream_version for e in await store.read_stream(stream)] == [1]


async def test_of_two_concurrent_appends_at_one_version_exactly_one_wins(pool):
    store, stream = EventStore(pool), f"T-{uuid.uuid4().hex}"
    results = await asyncio.gather(*(store.append(stream, 0, [_event(stream, 1)]) for _ in range(5)),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, ConcurrencyConflict)]
    assert len(winners) == 1 and isinstance(winners[0], int)  # the winner learns its position
    assert len(await store.read_stream(stream)) == 1


async def test_read_all_returns_every_event_once_in_commit_order(pool):
    store = EventStore(pool)
    start = await store.head_position()
    streams = [f"T-{uuid.uuid4().hex}" for _ in range(20)]
    await asyncio.gather(*(store.append(s, 0, [_event(s, 1), _event(s, 2)]) for s in streams))
    read = await store.read_all(start, limit=10_000)
    mine = [(p, e) for p, e in read if e.case_id in streams]
    assert len(mine) == 40
    positions = [p for p, _ in read]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for s in streams:  # per-stream order follows version
        assert [e.stream_version for _, e in mine if e.case_id == s] == [1, 2]


async def test_events_without_a_topic_are_stored_but_not_queued(pool):
    store, stream = EventStore(pool), f"estate-T{uuid.uuid4().hex[:6]}"
    await store.append(stream, 0, [_event(stream, 1, kind="EstateConfigured")])
    assert await _counts(pool, stream) == (1, 0)


async def test_events_with_a_topic_are_queued_for_the_relay_in_the_same_transaction(pool):
    store, stream = EventStore(pool), f"T-{uuid.uuid4().hex}"
    event = _event(stream, 1, kind="CaseDispatched")
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await store.append(stream, 0, [event], conn=conn)
            queued = await conn.fetch("SELECT topic, message FROM outbox WHERE key = $1", stream)
            assert [r["topic"] for r in queued] == ["dispatch-events"]
            assert Envelope.from_bytes(bytes(queued[0]["message"])).event_id == event.event_id
            assert await _counts(pool, stream) == (0, 0)  # nobody else sees either before the commit
        finally:
            await transaction.rollback()
    assert await _counts(pool, stream) == (0, 0)  # rolled back together: no event without its message
