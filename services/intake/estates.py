"""Estate set-up as events: the latest EstateConfigured of stream `estate-{id}` is the estate."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Callable
from zoneinfo import ZoneInfo

from estatedesk.streams import estate_stream
from estatedesk.clock import Clock
from estatedesk.contracts import Envelope, Payload, encode
from estatedesk.contracts.events import DailyFeedbackReported, EstateConfigured
from estatedesk.eventstore import ConcurrencyConflict, EventStore

from .domain.errors import InvalidCommand
from .domain.estate import Estate


async def load_estate(store: EventStore, estate_id: str, conn=None) -> Estate | None:
    configured = await store.latest(estate_stream(estate_id), "EstateConfigured", conn=conn)
    return Estate.from_configured(estate_id, configured.payload) if configured else None


async def configure_estate(store: EventStore, estate_id: str, config: EstateConfigured,
                           *, actor: str, clock: Clock) -> int:
    """Record a new version of the estate; returns that version. The estate's stream also
    holds its policies and daily feedback, so the set-up's version counts set-ups only."""
    current = await store.read_stream(estate_stream(estate_id))
    now = clock()
    envelope = Envelope(
        event_id=uuid.uuid4(), event_type="EstateConfigured", case_id=estate_stream(estate_id),
        estate_id=estate_id, stream_version=len(current) + 1, occurred_at=now, recorded_at=now,
        producer="intake", correlation_id=f"estate-setup-{actor}", payload=encode(config),
    )
    await store.append(estate_stream(estate_id), len(current), [envelope])
    return 1 + sum(e.event_type == "EstateConfigured" for e in current)


async def load_policy(store: EventStore, estate_id: str, conn=None) -> dict:
    """The estate's policy in force now ({} while it runs on the defaults)."""
    policy = await store.latest(estate_stream(estate_id), "EstatePolicySet", conn=conn)
    return policy.payload if policy else {}


async def report_daily_feedback(store: EventStore, estate_id: str, department: str, day: date | None, summary: str,
                                *, actor: str, clock: Clock) -> date:
    """Record a department's daily report in the estate stream; returns the day it covers."""
    estate = await load_estate(store, estate_id)
    if estate is None:
        raise InvalidCommand([("estate_id", f"unknown estate {estate_id}")])
    now = clock()
    today = now.astimezone(ZoneInfo(estate.timezone)).date()
    day = day or today
    if day > today:
        raise InvalidCommand([("day", f"is after today ({today}) in the estate's timezone")])
    report = DailyFeedbackReported(department=department, day=day, summary=summary, reported_by=actor)
    await record_on_estate(store, estate_id, lambda _: report, now, f"feedback-{estate_id}-{day}")
    return day


async def record_on_estate(store: EventStore, estate_id: str, build: Callable[[list[Envelope]], Payload],
                           now: datetime, correlation_id: str) -> Payload:
    """Append the event `build` makes of the estate's stream as it stands (see record_on_stream)."""
    return await record_on_stream(store, estate_stream(estate_id), estate_id, build, now, correlation_id)


async def record_on_stream(store: EventStore, stream: str, estate_id: str, build: Callable[[list[Envelope]], Payload],
                           now: datetime, correlation_id: str, *, attempts: int = 3) -> Payload:
    """Append the event `build` makes of a set-up stream as it stands, retried on a concurrent
    append: reports and versions of one stream may arrive together, and `build` decides again
    on what the stream then holds (the next version number, say). Returns the event."""
    for attempt in range(attempts):
        events = await store.read_stream(stream)
        version, payload = len(events), build(events)
        envelope = Envelope(
            event_id=uuid.uuid4(), event_type=payload.event_type(), case_id=stream, estate_id=estate_id,
            stream_version=version + 1, occurred_at=now, recorded_at=now, producer="intake",
            correlation_id=correlation_id, payload=encode(payload))
        try:
            await store.append(stream, version, [envelope])
            return payload
        except ConcurrencyConflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
