"""The SLA policy a case is judged by: the estate's version in force when the case was received,
counting working days by the group's official calendar (each span by the tables loaded when it began)."""
from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from estatedesk.streams import estate_stream

from .calendars import loaded_calendars
from .domain.sla_policy import SlaPolicy, policy_from


async def policy_for(conn: asyncpg.Connection, estate_id: str, received_at: datetime) -> SlaPolicy:
    stream = estate_stream(estate_id)
    timezone = await conn.fetchval(
        "SELECT payload->>'timezone' FROM events WHERE stream_id = $1 AND event_type = 'EstateConfigured'"
        " ORDER BY version DESC LIMIT 1", stream) or "Asia/Shanghai"
    row = await conn.fetchrow(
        "SELECT payload FROM events WHERE stream_id = $1 AND event_type = 'EstatePolicySet'"
        " AND (payload->>'effective_from')::timestamptz <= $2 ORDER BY version DESC LIMIT 1", stream, received_at)
    official = await loaded_calendars(conn)
    if row is None:
        return policy_from(0, received_at, None, timezone, official)
    policy = json.loads(row["payload"])
    return policy_from(policy["version"], datetime.fromisoformat(policy["effective_from"]), policy.get("sla"),
                       timezone, official)
