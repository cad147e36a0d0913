"""`estatedesk trace CASE_ID`: one case's path through the system — its events in the store
and the topic each travels on, how far each consumer has applied it, what still waits in the
outbox, what a consumer set aside, and the service log lines that name it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import asyncpg

from estatedesk.contracts import topic_of


@dataclass
class CaseTrace:
    case_id: str
    events: list[dict] = field(default_factory=list)  # stream_id, version, position, event_type, recorded_at
    applied: dict[str, int] = field(default_factory=dict)  # consumer → the case's last position it applied
    outbox: list[dict] = field(default_factory=list)  # id, topic, created_at
    dead_letters: list[dict] = field(default_factory=list)  # consumer, event_type, error, recorded_at
    log_lines: list[dict] = field(default_factory=list)  # the JSON objects of the services' logs


async def from_store(pool: asyncpg.Pool, case_id: str) -> CaseTrace:
    async with pool.acquire() as conn:
        events = [dict(r) for r in await conn.fetch(
            "SELECT stream_id, version, position, event_id::text, event_type, recorded_at FROM events"
            " WHERE case_id = $1 ORDER BY position", case_id)]
        applied = {r["consumer"]: r["position"] for r in await conn.fetch(
            "SELECT consumer, position FROM case_positions WHERE case_id = $1 ORDER BY consumer", case_id)}
        outbox = [dict(r) for r in await conn.fetch(
            "SELECT id, topic, created_at FROM outbox WHERE key = $1 ORDER BY id", case_id)]
        # A dead letter names its case only inside the message, which may not even be JSON:
        # the search narrows by bytes, and `_names_case` decides.
        candidates = await conn.fetch(
            "SELECT consumer, event_id, event_type, left(error, 120) AS error, recorded_at, message"
            " FROM dead_letters WHERE event_id = ANY($1::text[]) OR position($2::bytea IN message) > 0"
            " ORDER BY id", [e["event_id"] for e in events], json.dumps(case_id).encode())
    event_ids = {e["event_id"] for e in events}
    dead = [{k: r[k] for k in ("consumer", "event_type", "error", "recorded_at")}
            for r in candidates if r["event_id"] in event_ids or _names_case(r["message"], case_id)]
    return CaseTrace(case_id, events, applied, outbox, dead)


def _names_case(message: bytes, case_id: str) -> bool:
    try:
        decoded = json.loads(message)
    except ValueError:
        return False
    return isinstance(decoded, dict) and decoded.get("case_id") == case_id


def log_lines(paths: Iterable[Path], case_id: str) -> Iterator[dict]:
    """The records of JSON-lines logs whose `case_id` field is the case; lines that are not
    JSON (the broker's own log) are passed over."""
    for path in sorted(paths):
        with path.open(encoding="utf-8", errors="replace") as log:
            for line in log:
                if case_id not in line:  # most lines: no JSON parsing needed
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("case_id") == case_id:
                    yield record


def render(trace: CaseTrace) -> list[str]:
    lines = [f"case {trace.case_id}: {len(trace.events)} event(s)", "",
             "events in the store (and the topic each is published on):",
             f"  {'position':>9}  {'stream':<28} {'ver':>4}  {'type':<26} {'topic':<16} recorded_at"]
    for e in trace.events:
        lines.append(f"  {e['position']:>9}  {e['stream_id']:<28} {e['version']:>4}  {e['event_type']:<26}"
                     f" {topic_of(e['event_type']) or '-':<16} {e['recorded_at'].isoformat()}")
    lines += ["", "applied by the consumers:"]
    for consumer, position in trace.applied.items():
        taken = sum(1 for e in trace.events if e["position"] <= position)
        lines.append(f"  {consumer:<24} up to position {position} ({taken} of {len(trace.events)} events)")
    if not trace.applied:
        lines.append("  none yet")
    lines += ["", "waiting in the outbox:"]
    lines += [f"  #{r['id']} for {r['topic']} since {r['created_at'].isoformat()}" for r in trace.outbox] \
        or ["  nothing"]
    lines += ["", "dead letters:"]
    lines += [f"  {d['consumer']:<24} {d['event_type'] or '?':<26} {d['recorded_at'].isoformat()}  {d['error']}"
              for d in trace.dead_letters] or ["  none"]
    lines += ["", "service log lines:"]
    lines += [f"  {r.get('ts', '?')} {r.get('service', '?'):<10} {r.get('level', '?'):<7} {r.get('msg', '')}"
              for r in trace.log_lines] or ["  none"]
    return lines
