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


# One statement under the append lock: check the stream's version, store the events with the
# next positions and queue their outbox rows, so the lock is held for one round trip, not five.
# The lock is taken by an earlier statement, so this one's snapshot sees every append before it.
# $2 is the version the stream must be at, or NULL to append at its end (a service's own stream).
_APPEND = f"""
WITH current AS (SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = $1),
new AS (
    SELECT e.*, (SELECT version FROM current) + e.n AS version
    FROM unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[],
                $10::text[], $11::text[], $12::text[], $13::jsonb[]) WITH ORDINALITY
         AS e(event_id, event_type, schema_version, case_id, estate_id, occurred_at, recorded_at, producer,
              correlation_id, causation_id, payload, n)
    WHERE $2::int IS NULL OR (SELECT version FROM current) = $2
),
stored AS (
    INSERT INTO events ({_COLUMNS})
    SELECT $1, version, nextval('event_position_seq'), event_id, event_type, schema_version, case_id, estate_id,
           occurred_at, recorded_at, producer, correlation_id, causation_id, payload
    FROM new ORDER BY n
    RETURNING position
),
queued AS (
    INSERT INTO outbox (topic, key, message)
    SELECT topic, key, message FROM unnest($14::text[], $15::text[], $16::bytea[]) WITH ORDINALITY
         AS o(topic, key, message, n)
    WHERE EXISTS (SELECT 1 FROM new) ORDER BY n
    RETURNING 1
)
SELECT (SELECT version FROM current) AS version, (SELECT max(position) FROM stored) AS position,
       CASE WHEN EXISTS (SELECT 1 FROM queued) THEN pg_notify('{OUTBOX_CHANNEL}', '') END AS notified
"""


async def _append_rows(conn: asyncpg.Connection, stream_id: str, expected_version: int | None,
                       envelopes: Sequence[Envelope]) -> tuple[int, int | None]:
    """(the stream's version before, the position of the last event stored — None if the
    stream was not at `expected_version` and nothing was stored)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _APPEND_LOCK)
    published = [(topic, e) for e in envelopes if (topic := topic_of(e.event_type))]
    row = await conn.fetchrow(
        _APPEND, stream_id, expected_version,
        [e.event_id for e in envelopes], [e.event_type for e in envelopes], [e.schema_version for e in envelopes],
        [e.case_id for e in envelopes], [e.estate_id for e in envelopes], [e.occurred_at for e in envelopes],
        [e.recorded_at for e in envelopes], [e.producer for e in envelopes], [e.correlation_id for e in envelopes],
        [e.causation_id for e in envelopes], [json.dumps(e.payload) for e in envelopes],
        [topic for topic, _ in published], [e.case_id for _, e in published], [e.to_bytes() for _, e in published],
    )
    return row["version"], row["position"]


async def record(conn: asyncpg.Connection, stream_id: str, envelopes: Sequence[Envelope]) -> None:
    """Append a service's own events (dispatch, SLA) at the end of their stream, with outbox
    rows, inside the caller's transaction; the caller's own locking orders its writes."""
    if envelopes:
        await _append_rows(conn, stream_id, None, envelopes)


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
        actual, position = await _append_rows(conn, stream_id, expected_version, envelopes)
        if actual != expected_version or position is None:
            raise ConcurrencyConflict(stream_id, expected_version, actual)
        return position


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
        if conn is not None:
            return await self.latest_on(conn, stream_id, event_type)
        async with self._pool.acquire() as own:
            return await self.latest_on(own, stream_id, event_type)

    @staticmethod
    async def latest_on(conn: asyncpg.Connection, stream_id: str, event_type: str) -> Envelope | None:
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND event_type = $2"
                                  " ORDER BY version DESC LIMIT 1", stream_id, event_type)
        return _row_to_envelope(row) if row else None

    async def head_position(self) -> int:
        async with self._pool.acquire() as conn:
            return await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")


async def create_pool(database_url: str, **kwargs: Any) -> asyncpg.Pool:
    return await asyncpg.create_pool(database_url, min_size=1, max_size=kwargs.pop("max_size", 10), **kwargs)
