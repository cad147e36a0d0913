"""The Postgres event store: streams with optimistic concurrency, a global position, an outbox.

Why appends take a lock: a `bigserial`/sequence value is drawn when a row is inserted,
not when its transaction commits, so two concurrent appends can commit out of position
order. A reader tailing "everything after position N" would then skip the late row for
ever. Every append therefore takes one transaction-level advisory lock just before it
draws positions; the lock is held until commit, so positions become visible in order.
The cost is that appends are serialised for the few hundred microseconds of the insert.

Outbox rows are written in the same transaction as the events they carry, so an event
is stored if and only if it will be published.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

import asyncpg

from estatedesk.contracts import Envelope, topic_of

_APPEND_LOCK = 7_420_002
OUTBOX_CHANNEL = "estatedesk_outbox"


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int):
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


def _row_to_envelope(row: asyncpg.Record) -> Envelope:
    # Only a case's own stream has a version on the wire; dispatch and SLA streams are
    # stored per case too, but SPEC §4 leaves their stream_version null.
    return Envelope(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        case_id=row["case_id"],
        estate_id=row["estate_id"],
        stream_version=row["version"] if row["stream_id"] == row["case_id"] else None,
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        producer=row["producer"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        payload=json.loads(row["payload"]),
    )


_COLUMNS = (
    "stream_id, version, position, event_id, event_type, schema_version, case_id, estate_id,"
    " occurred_at, recorded_at, producer, correlation_id, causation_id, payload"
)


async def write_outbox(conn: asyncpg.Connection, envelopes: Iterable[Envelope]) -> int:
    """Queue envelopes for the relay inside the caller's transaction."""
    rows = [(topic_of(e.event_type), e.case_id, e.to_bytes()) for e in envelopes]
    rows = [r for r in rows if r[0]]
    if rows:
        await conn.executemany("INSERT INTO outbox (topic, key, message) VALUES ($1, $2, $3)", rows)
        await conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
    return len(rows)


async def _stream_version(conn: asyncpg.Connection, stream_id: str) -> int:
    return await conn.fetchval("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id)


async def _insert(conn: asyncpg.Connection, stream_id: str, versioned: list[tuple[int, Envelope]]) -> int:
    await conn.executemany(
        f"INSERT INTO events ({_COLUMNS}) VALUES"
        " ($1, $2, nextval('event_position_seq'), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        [
            (stream_id, version, e.event_id, e.event_type, e.schema_version, e.case_id, e.estate_id,
             e.occurred_at, e.recorded_at, e.producer, e.correlation_id, e.causation_id, json.dumps(e.payload))
            for version, e in versioned
        ],
    )
    await write_outbox(conn, [e for _, e in versioned])
    return await conn.fetchval("SELECT currval('event_position_seq')")


async def record(conn: asyncpg.Connection, stream_id: str, envelopes: Sequence[Envelope]) -> None:
    """Append a service's own events (dispatch, SLA) at the end of their stream, with outbox
    rows, inside the caller's transaction; the caller's own locking orders its writes."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _APPEND_LOCK)
    current = await _stream_version(conn, stream_id)
    await _insert(conn, stream_id, [(current + i, e) for i, e in enumerate(envelopes, 1)])


class EventStore:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        envelopes: Sequence[Envelope],
        *,
        conn: asyncpg.Connection | None = None,
    ) -> int:
        """Append to a stream that must be at `expected_version`, with outbox rows; returns
        the global position of the last event (for read-your-writes on the query side).

        Raises ConcurrencyConflict and writes nothing if the stream is elsewhere. Pass
        `conn` to join a transaction the caller holds (e.g. with a side table).
        """
        if conn is None:
            async with self._pool.acquire() as own, own.transaction():
                return await self._append(own, stream_id, expected_version, envelopes)
        return await self._append(conn, stream_id, expected_version, envelopes)

    async def _append(self, conn, stream_id, expected_version, envelopes) -> int:
        for offset, envelope in enumerate(envelopes, start=1):
            if envelope.stream_version != expected_version + offset:
                raise ValueError("envelope stream_version does not follow expected_version")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _APPEND_LOCK)
        actual = await _stream_version(conn, stream_id)
        if actual != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, actual)
        return await _insert(conn, stream_id, [(expected_version + i, e) for i, e in enumerate(envelopes, 1)])


    async def read_stream(self, stream_id: str, after_version: int = 0, *,
                          conn: asyncpg.Connection | None = None) -> list[Envelope]:
        query = f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version"
        if conn is not None:
            rows = await conn.fetch(query, stream_id, after_version)
        else:
            async with self._pool.acquire() as own:
                rows = await own.fetch(query, stream_id, after_version)
        return [_row_to_envelope(r) for r in rows]

    async def read_case(self, case_id: str, *, conn: asyncpg.Connection | None = None) -> list[Envelope]:
        """Every stored event about one case — its own stream, dispatch's and SLA's — in store
        order: what the shared lifecycle fold reads."""
        if conn is not None:
            return await self.read_case_on(conn, case_id)
        async with self._pool.acquire() as own:
            return await self.read_case_on(own, case_id)

    @staticmethod
    async def read_case_on(conn: asyncpg.Connection, case_id: str) -> list[Envelope]:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM events WHERE case_id = $1 ORDER BY position", case_id)
        return [_row_to_envelope(r) for r in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[tuple[int, Envelope]]:
        """Events in global order after `after_position`: (position, envelope) pairs."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
                after_position, limit,
            )
        return [(r["position"], _row_to_envelope(r)) for r in rows]

    async def latest(self, stream_id: str, event_type: str, *, conn: asyncpg.Connection | None = None
                     ) -> Envelope | None:
        """The newest event of one type in a stream (e.g. the estate's current set-up)."""
        query = (f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND event_type = $2"
                 " ORDER BY version DESC LIMIT 1")
        if conn is not None:
            row = await conn.fetchrow(query, stream_id, event_type)
        else:
            async with self._pool.acquire() as own:
                row = await own.fetchrow(query, stream_id, event_type)
        return _row_to_envelope(row) if row else None

    async def head_position(self) -> int:
        async with self._pool.acquire() as conn:
            return await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")


async def create_pool(database_url: str, **kwargs: Any) -> asyncpg.Pool:
    return await asyncpg.create_pool(database_url, min_size=1, max_size=kwargs.pop("max_size", 10), **kwargs)
