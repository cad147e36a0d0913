"""An estate's fee schedule as versioned events in its stream, like its policy: each PUT
records a FeeScheduleSet, and a completion is priced by the version in force then."""
from __future__ import annotations

from typing import Any

from estatedesk.clock import Clock
from estatedesk.contracts import Envelope
from estatedesk.contracts.events import FeeItem, FeeScheduleSet
from estatedesk.eventstore import EventStore
from estatedesk.streams import estate_stream

from .domain.errors import InvalidCommand
from .domain.fees import FeeSchedule
from .estates import record_on_estate


async def load_fee_schedule(store: EventStore, estate_id: str, conn=None) -> FeeSchedule:
    latest = await store.latest(estate_stream(estate_id), "FeeScheduleSet", conn=conn)
    return FeeSchedule.from_set(latest.payload) if latest else FeeSchedule()


async def set_fee_schedule(store: EventStore, estate_id: str, items: list[dict[str, Any]], *, actor: str,
                           clock: Clock) -> int:
    """Record the next version of the estate's fee schedule; returns that version."""
    now = clock()

    def next_version(events: list[Envelope]) -> FeeScheduleSet:
        if not any(e.event_type == "EstateConfigured" for e in events):
            raise InvalidCommand([("estate_id", f"unknown estate {estate_id}; set it up first")])
        version = 1 + sum(e.event_type == "FeeScheduleSet" for e in events)
        return FeeScheduleSet(version=version, effective_from=now, set_by=actor,
                              items=[FeeItem(**item) for item in items])

    recorded = await record_on_estate(store, estate_id, next_version, now, f"fee-schedule-{estate_id}")
    return recorded.version


def fee_schedule_history(estate_id: str, events: list[Envelope]) -> dict[str, Any]:
    """The schedule in force (version 0: none yet, so only free lines can be charged) and
    every earlier version, newest last."""
    versions = [e.payload for e in events if e.event_type == "FeeScheduleSet"]
    current = versions[-1] if versions else {}
    return {"estate_id": estate_id, "version": current.get("version", 0),
            "effective_from": current.get("effective_from"), "set_by": current.get("set_by"),
            "items": current.get("items", []),
            "versions": [{"version": v["version"], "effective_from": v["effective_from"], "set_by": v["set_by"],
                          "items": len(v["items"])} for v in versions]}
