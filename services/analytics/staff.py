"""Who works where: a user's departments, read from the estates' set-up in the store."""
from __future__ import annotations

import asyncpg

from estatedesk.eventstore import EventStore
from estatedesk.streams import estate_stream

NOT_A_DEPARTMENT = frozenset({"estate_manager"})


async def departments_of(pool: asyncpg.Pool, estates: list[str], user: str) -> list[str]:
    """The departments whose staff list names `user` in any of these estates."""
    store = EventStore(pool)
    found: set[str] = set()
    for estate_id in estates:
        configured = await store.latest(estate_stream(estate_id), "EstateConfigured")
        staff = configured.payload.get("staff", {}) if configured else {}
        found |= {department for department, users in staff.items()
                  if user in users and department not in NOT_A_DEPARTMENT}
    return sorted(found)
