"""Estate set-up as events: the latest EstateConfigured of stream `estate-{id}` is the estate."""
from __future__ import annotations

import uuid

from estatedesk.clock import Clock
from estatedesk.contracts import Envelope, encode
from estatedesk.contracts.events import EstateConfigured
from estatedesk.eventstore import EventStore

from .domain.estate import Estate


def estate_stream(estate_id: str) -> str:
    return f"estate-{estate_id}"


async def load_estate(store: EventStore, estate_id: str) -> Estate | None:
    configured = await store.latest(estate_stream(estate_id), "EstateConfigured")
    return Estate.from_configured(estate_id, configured.payload) if configured else None


async def configure_estate(store: EventStore, estate_id: str, config: EstateConfigured,
                           *, actor: str, clock: Clock) -> int:
    """Record a new version of the estate; returns that version."""
    current = await store.read_stream(estate_stream(estate_id))
    version = len(current) + 1
    now = clock()
    envelope = Envelope(
        event_id=uuid.uuid4(), event_type="EstateConfigured", case_id=estate_stream(estate_id),
        estate_id=estate_id, stream_version=version, occurred_at=now, recorded_at=now,
        producer="intake", correlation_id=f"estate-setup-{actor}", payload=encode(config),
    )
    await store.append(estate_stream(estate_id), version - 1, [envelope])
    return version


async def load_policy(store: EventStore, estate_id: str) -> dict:
    """The estate's policy in force now ({} while it runs on the defaults)."""
    policy = await store.latest(estate_stream(estate_id), "EstatePolicySet")
    return policy.payload if policy else {}
