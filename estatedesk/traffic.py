"""A realistic month of cases for many estates, written straight into the event store.

Every case gets the events the services would have recorded for it — received, warranty,
dispatch decision and routing, SLA clocks met or breached with escalations, the work, the
closure steps, return visits (some dissatisfied, reopening the case), bills and repeats —
in the streams they would live in. Deterministic for a seed. It bypasses the services for
speed (one COPY per batch under the store's append lock), so it is a tool for statistics,
benchmarks and demos, never for production data.
"""
from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from tqdm import tqdm

from estatedesk.streams import estate_stream
from estatedesk.contracts import derived_event_id
from estatedesk.demo import staffed_estate
from estatedesk.eventstore.store import _APPEND_LOCK

SHANGHAI = ZoneInfo("Asia/Shanghai")
TYPES = [("repair", 0.34), ("complaint", 0.18), ("consultation", 0.2), ("help", 0.12), ("suggestion", 0.08),
         ("violation", 0.08)]
CATEGORIES = {
    "repair": ["plumbing", "leak", "electrical", "door", "lighting"],
    "complaint": ["noise", "environment", "greenery", "service", "parking"],
    "consultation": ["fees", "decoration_rules", "parking", "pets"],
    "help": ["other", "other", "other", "medical", "security_incident", "disaster"],
    "suggestion": ["greenery", "facilities", "security"],
    "violation": ["decoration", "fire_safety", "environment", "public_security", "fee_refusal", "harming_others"],
}
DEPARTMENT = {"repair": ["engineering"], "complaint": ["customer_service"], "consultation": ["customer_service"],
              "suggestion": ["customer_service"], "violation": ["customer_service"]}
CHANNELS = ["phone", "phone", "walk_in", "app", "app", "patrol"]
HANDLED_BY_SERVICES = ("dispatch", "sla")
COLUMNS = ["stream_id", "version", "position", "event_id", "event_type", "schema_version", "case_id", "estate_id",
           "occurred_at", "recorded_at", "producer", "correlation_id", "causation_id", "payload"]


@dataclass
class _Case:
    case_id: str
    estate_id: str
    rows: list
    versions: dict

    def add(self, stream: str, kind: str, at: datetime, payload: dict, producer: str = "intake") -> str:
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        event_id = derived_event_id("traffic", self.case_id, stream, version)
        self.rows.append([stream, version, None, event_id, kind, 1, self.case_id, self.estate_id, at, at, producer,
                          self.case_id, None, json.dumps(_jsonable(payload))])
        return str(event_id)


def _jsonable(payload: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in payload.items()}


def _departments(kind: str, category: str) -> list[str]:
    if kind == "help":
        return {"medical": ["security", "customer_service"], "security_incident": ["security"],
                "disaster": ["security", "engineering"]}.get(category, ["customer_service"])
    if kind == "complaint":
        return {"environment": ["cleaning"], "greenery": ["greening"]}.get(category, ["customer_service"])
    return DEPARTMENT[kind]


def _case(rng: random.Random, estate_id: str, n: int, month_start: datetime, days: int,
          households: list[str], earlier: dict) -> _Case:
    case = _Case(f"C-{estate_id}-{month_start:%Y%m}-{n:06d}", estate_id, [], {})
    kind = rng.choices([t for t, _ in TYPES], [w for _, w in TYPES])[0]
    category = rng.choice(CATEGORIES[kind])
    at = month_start + timedelta(seconds=rng.randrange(days * 86400))
    building = str(rng.randint(1, 6))
    location = {"building": building, "unit": "1", "room": "0101", "area": None} if rng.random() < 0.7 else \
        {"building": None, "unit": None, "room": None, "area": rng.choice(["north gate", "car park", "pond"])}
    household = rng.choice(households)
    blocks = {"repair": {"scope": "in_home" if location["room"] else "public_area"}, "complaint": {"origin":
              rng.choice(["resident"] * 8 + ["group_center", "quality_office"])}, "help": {"serious": rng.random()
              < 0.3}, "violation": {"severity": rng.choice(["general", "general", "major"])}}
    if kind == "repair" and not location["room"]:
        location = {"building": building, "unit": "1", "room": "0101", "area": None}
        blocks["repair"]["scope"] = rng.choice(["in_home", "public_area"])
    received = {"type": kind, "category": category, "channel": rng.choice(CHANNELS), "title": f"{category} #{n}",
                "description": "", "location": location,
                "reporter": {"household_id": household, "phone_masked": "138****5678"}, "received_at": at,
                "priority": "urgent" if kind == "help" and category != "other" else "normal"}
    if kind in blocks:
        received[kind] = blocks[kind]
    case.add(case.case_id, "CaseReceived", at, received)
    in_warranty = rng.random() < 0.5
    if kind == "repair":
        case.add(case.case_id, "WarrantyDetermined", at, {"in_warranty": in_warranty, "rule": "traffic"})
    if kind == "complaint" and (household, category) in earlier:
        case.add(case.case_id, "RepeatComplaintDetected", at, {"earlier_case_id": earlier[(household, category)],
                                                              "how": "same_household_category"})
    if kind == "complaint":
        earlier[(household, category)] = case.case_id
    departments = _departments(kind, category)
    t = at + timedelta(seconds=rng.randint(1, 400))
    case.add(f"{case.case_id}/dispatch", "CaseDispatched", t, {"departments": departments, "dispatched_at": t,
                                                              "rule": kind}, "dispatch")
    _clocks(case, rng, kind, blocks, at, t)
    complaint_clock = _ComplaintClock.start(case, 1, at) if kind == "complaint" else None
    if rng.random() < 0.04:
        case.add(case.case_id, "CaseCancelled", t + timedelta(minutes=5), {"reason": "withdrawn"})
        _report_to_group(case, received)
        return case
    if kind in ("consultation", "suggestion") or (kind == "help" and category == "other"):
        reply = t + timedelta(minutes=rng.randint(1, 30))
        case.add(case.case_id, "CaseReplied", reply, {"answer": "answered"})
        if rng.random() < 0.9:
            case.add(case.case_id, "CaseArchived", reply + timedelta(hours=1), {})
        return case
    _work(case, rng, kind, in_warranty, t, complaint_clock)
    _report_to_group(case, received)
    return case


def _report_to_group(case: _Case, received: dict) -> None:
    """As intake does: a complaint the group transferred in reports its result when it closes."""
    *_, closing = case.rows
    if (received.get("complaint") or {}).get("origin") not in ("group_center", "quality_office") \
            or closing[4] not in ("CaseArchived", "CaseCancelled"):
        return
    visits = [json.loads(row[13])["satisfaction"] for row in case.rows if row[4] == "ReturnVisitRecorded"]
    archived = closing[4] == "CaseArchived"
    case.add(case.case_id, "GroupComplaintResultReported", closing[8], {
        "group_ref": None, "outcome": "archived" if archived else "cancelled",
        "result": "done" if archived else "withdrawn", "satisfaction": visits[-1] if archived and visits else None,
        "closed_at": closing[8]})


def _clocks(case: _Case, rng: random.Random, kind: str, blocks: dict, received: datetime, routed: datetime) -> None:
    sla = f"{case.case_id}/sla"
    if kind == "repair" and blocks["repair"]["scope"] == "in_home":
        due = received + timedelta(minutes=5)
        obligation = {"obligation_id": f"{case.case_id}/engineering_notified/1", "rule": "engineering_notified"}
        case.add(sla, "SlaClockStarted", received, {**obligation, "started_at": received, "due_at": due,
                                                     "policy_version": 0}, "sla")
        if routed <= due:
            case.add(sla, "SlaMet", routed, {**obligation, "due_at": due, "met_at": routed}, "sla")
        else:
            case.add(sla, "SlaBreached", due, {**obligation, "due_at": due, "breached_at": due}, "sla")
            case.add(sla, "EscalationRaised", due, {**obligation, "level": 1, "to_role": "supervisor",
                                                    "reason": "deadline missed", "raised_at": due}, "sla")


@dataclass
class _ComplaintClock:
    """The 24 h complaint clock (002 §4.2.1) as the SLA service runs it: paused while waiting
    on the resident, breached once when due, met at completion even after a breach, and a
    new instance when the case is reopened."""

    case: _Case
    obligation_id: str
    due: datetime
    breached: bool = False

    @classmethod
    def start(cls, case: _Case, number: int, at: datetime) -> _ComplaintClock:
        clock = cls(case, f"{case.case_id}/complaint_completed/{number}", at + timedelta(hours=24))
        clock._emit("SlaClockStarted", at, started_at=at, due_at=clock.due, policy_version=0)
        return clock

    def _emit(self, kind: str, at: datetime, **payload) -> None:
        self.case.add(f"{self.case.case_id}/sla", kind, at, {"obligation_id": self.obligation_id,
                                                             "rule": "complaint_completed", **payload}, "sla")

    def reach(self, rng: random.Random, at: datetime) -> None:
        """Fire the breach and its escalations if `at` is past the due time."""
        if self.breached or at <= self.due:
            return
        self.breached = True
        self._emit("SlaBreached", self.due, due_at=self.due, breached_at=self.due)
        for level, role, after in ((1, "supervisor", 0), (2, "estate_manager", 4))[:rng.randint(1, 2)]:
            self._emit("EscalationRaised", self.due + timedelta(hours=after), level=level, to_role=role,
                       reason="投诉处理档案卡 file card", raised_at=self.due + timedelta(hours=after))

    def pause(self, rng: random.Random, at: datetime, until: datetime) -> None:
        self.reach(rng, at)
        self._emit("SlaClockPaused", at, paused_at=at)
        self.due += until - at
        self._emit("SlaClockResumed", until, resumed_at=until, due_at=self.due)

    def meet(self, rng: random.Random, at: datetime) -> None:
        self.reach(rng, at)
        self._emit("SlaMet", at, due_at=self.due, met_at=at, elapsed_seconds=0.0)


def _work(case: _Case, rng: random.Random, kind: str, in_warranty: bool, routed: datetime,
          complaint_clock: _ComplaintClock | None) -> None:
    t = routed + timedelta(minutes=rng.randint(2, 90))
    case.add(case.case_id, "CaseAccepted", t, {})
    t += timedelta(minutes=rng.randint(5, 600))
    case.add(case.case_id, "WorkStarted", t, {})
    previous_bill = None
    for completion in (1, 2):
        t += timedelta(minutes=rng.randint(20, 2000))
        if complaint_clock and rng.random() < 0.3:  # waiting on the resident, the clock stands still
            until = t + timedelta(minutes=rng.randint(30, 1500))
            case.add(case.case_id, "WorkPaused", t, {"reason": "waiting_on_resident"})
            complaint_clock.pause(rng, t, until)
            case.add(case.case_id, "WorkResumed", until, {})
            t = until + timedelta(minutes=rng.randint(20, 600))
        case.add(case.case_id, "WorkCompleted", t, {"result": "done", "completion_number": completion})
        if complaint_clock:
            complaint_clock.meet(rng, t)
        if kind == "repair" and not in_warranty:
            total = rng.randint(1, 40) * 500
            previous_bill = case.add(case.case_id, "ChargeableWorkCompleted", t, {
                "completion_number": completion, "total_fen": total, "supersedes_event_id": previous_bill,
                "charge_lines": [{"item": "parts", "quantity": 1, "unit_price_fen": total, "total_fen": total}]})
        if kind in ("repair", "complaint"):
            t += timedelta(hours=rng.randint(1, 30))
            case.add(case.case_id, "InspectionRecorded", t, {"passed": True})
            case.add(case.case_id, "SupervisorReviewed", t + timedelta(hours=1), {})
        if rng.random() < 0.85:
            t += timedelta(hours=rng.randint(2, 40))
            satisfaction = rng.choices(["satisfied", "neutral", "dissatisfied"], [0.8, 0.12, 0.08])[0]
            case.add(case.case_id, "ReturnVisitRecorded", t, {"method": "phone", "satisfaction": satisfaction})
            if satisfaction == "dissatisfied" and completion == 1:
                case.add(case.case_id, "CaseReopened", t, {"reason": "dissatisfied"})
                if complaint_clock:
                    complaint_clock = _ComplaintClock.start(case, 2, t)
                continue
        break
    if rng.random() < 0.8:
        case.add(case.case_id, "CaseArchived", t + timedelta(hours=2), {})


async def generate(pool: asyncpg.Pool, *, estates: int, cases: int, month: str, seed: int = 7,
                   progress: bool = True) -> int:
    """Write a month of `cases` cases over `estates` estates; returns the number of events."""
    rng = random.Random(seed)
    month_start = datetime.strptime(month, "%Y-%m").replace(tzinfo=SHANGHAI)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    days = (next_month - month_start).days
    estate_ids = [f"S{i:03d}" for i in range(1, estates + 1)]
    households = {e: [f"H-{e}-{i}" for i in range(400)] for e in estate_ids}
    earlier: dict = {}
    written = 0
    await _configure(pool, estate_ids, month_start)
    with tqdm(total=cases, unit="case", desc=f"generating {month}", disable=not progress) as bar:
        for batch_start in range(0, cases, 2000):
            rows = []
            for n in range(batch_start, min(batch_start + 2000, cases)):
                estate = estate_ids[n % estates]
                rows += _case(rng, estate, n, month_start, days, households[estate], earlier).rows
            written += await _copy(pool, rows)
            bar.update(min(2000, cases - batch_start))
    return written


async def _configure(pool: asyncpg.Pool, estate_ids: list[str], at: datetime) -> None:
    rows = []
    for estate_id in estate_ids:
        payload = staffed_estate(f"Estate {estate_id}", estate_id, 6).model_dump(mode="json")
        stream = estate_stream(estate_id)
        async with pool.acquire() as conn:
            if await conn.fetchval("SELECT 1 FROM events WHERE stream_id = $1", stream):
                continue
        rows.append([stream, 1, None, uuid.uuid4(), "EstateConfigured", 1, stream, estate_id, at, at, "traffic",
                     stream, None, json.dumps(payload)])
    await _copy(pool, rows)


async def _copy(pool: asyncpg.Pool, rows: list) -> int:
    if not rows:
        return 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _APPEND_LOCK)  # positions in commit order
        first = await conn.fetchval("SELECT nextval('event_position_seq')")
        await conn.execute("SELECT setval('event_position_seq', $1)", first + len(rows) - 1)
        for offset, row in enumerate(rows):
            row[2] = first + offset
        await conn.copy_records_to_table("events", records=[tuple(r) for r in rows], columns=COLUMNS)
        # History, not news: the operational services' outputs are in it already, so they are
        # recorded as caught up; only the read side projects it.
        last = {}
        for row in rows:
            last[row[6]] = row[2]
        await conn.executemany(
            "INSERT INTO case_positions (consumer, case_id, position) VALUES ($1, $2, $3)"
            " ON CONFLICT (consumer, case_id) DO UPDATE SET position = EXCLUDED.position",
            [(consumer, case_id, position) for case_id, position in last.items() for consumer in HANDLED_BY_SERVICES])
    return len(rows)
