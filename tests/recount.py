"""The monthly figures (SPEC §3 "Monthly statistics", 003 §4.10) recounted from the stored events.

A reference for `GET /v1/stats/monthly` that shares no code with the analytics service: it
reads the `events` table, follows each case's events in store order and derives every
figure from the definitions in the SPEC and the docstring of the service's month report,
by methods of its own —

- a case belongs to the month its `received_at` falls in on the group's calendar
  (Asia/Shanghai), per estate or group-wide;
- response: received → the first reply, acceptance or referral; resolution: received → the
  last completion, or → the archive for a case archived without work;
- median and p90 are nearest-rank percentiles: the smallest value with at least that share of
  the values at or below it, found on the cumulative counts in exact fractions;
- SLA compliance per rule counts clock instances (obligation ids): breached if it ever
  breached, else met if met, else not settled and not counted;
- the department is the one the case is with at the end: the first of the latest routing
  decision's departments (customer service when dispatch failed); none ("unrouted") while a
  transfer or a rejection waits for a new decision, and a decision after closure moves nothing;
- return-visit coverage: completed cases with a visit / completed cases; satisfaction: the
  last visit of each visited case;
- complaint file cards: the cases with a breached instance of the complaint completion clock,
  one card a case;
- paid work: the bills no later bill of the case supersedes and no void cancels;
- group register: complaints from the group centre or the quality office, or naming a group
  reference, and those of them whose result was reported back;
- the general manager's mailbox: the escalations to the general manager (by event id), and
  those a later acknowledgement names;
- top problems: the ten most frequent (location, category) pairs — a building, else the
  area — ties in code-point order of the location, then the category;
- ratios are exact fractions, so a served ratio must be the exact one rounded to its places
  (4, or 2 for per cent changes; on an exact half either neighbour).
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

GROUP_CALENDAR = ZoneInfo("Asia/Shanghai")
FIRST_RESPONSES = frozenset({"CaseReplied", "CaseAccepted", "CaseReferredToSupervisor"})
CLOSINGS = frozenset({"CaseArchived", "CaseCancelled", "CaseMerged"})
MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)
TOP = 10
FILE_CARD_RULE = "complaint_completed"  # 002 §4.2.1: not completed in 24 h, a file card


@dataclass
class StoredCase:
    """What the figures need of one case, taken from its events in store order."""

    case_id: str
    estate_id: str
    received: dict[str, Any]
    received_at: datetime
    departments: list[str] = field(default_factory=list)
    closed: bool = False
    first_response_at: datetime | None = None
    completed_at: list[datetime] = field(default_factory=list)
    archived_at: datetime | None = None
    clock_rules: dict[str, str] = field(default_factory=dict)  # obligation id → rule
    breached: set[str] = field(default_factory=set)
    met: set[str] = field(default_factory=set)
    escalation_levels: list[int] = field(default_factory=list)
    repeat: bool = False
    visits: list[str] = field(default_factory=list)
    bills: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # event id → (fen, supersedes)
    voided: set[str] = field(default_factory=set)  # event ids of the bills voided since
    unreachable: int = 0
    visit_closed: bool = False
    result_reported: bool = False

    @property
    def on_group_register(self) -> bool:
        complaint = self.received.get("complaint") or {}
        return complaint.get("origin") in ("group_center", "quality_office") or complaint.get("group_ref") is not None
    mailbox: set[str] = field(default_factory=set)  # escalation event ids
    acknowledged: set[str] = field(default_factory=set)

    @property
    def month(self) -> str:
        return self.received_at.astimezone(GROUP_CALENDAR).strftime("%Y-%m")

    def take(self, kind: str, event_id: str, at: datetime, p: dict[str, Any]) -> None:
        if kind == "CaseDispatched" and not self.closed:
            self.departments = list(p.get("departments") or ["customer_service"])
        elif kind == "DispatchFailed" and not self.closed:
            self.departments = ["customer_service"]
        elif kind in ("CaseTransferred", "CaseRejected"):
            self.departments = []
        elif kind == "WorkCompleted":
            self.completed_at.append(at)
        elif kind == "CaseArchived":
            self.archived_at = at
        elif kind == "SlaClockStarted":
            self.clock_rules[p["obligation_id"]] = p["rule"]
        elif kind == "SlaBreached":
            self.breached.add(p["obligation_id"])
        elif kind == "SlaMet":
            self.met.add(p["obligation_id"])
        elif kind == "EscalationRaised":
            self.escalation_levels.append(p["level"])
            if p.get("to_role") == "general_manager":
                self.mailbox.add(event_id)
        elif kind == "MailboxItemAcknowledged":
            self.acknowledged |= set(p["item_ids"])
        elif kind == "RepeatComplaintDetected":
            self.repeat = True
        elif kind == "ReturnVisitRecorded":
            self.visits.append(p["satisfaction"])
        elif kind == "ReturnVisitAttempted":
            self.unreachable += 1
        elif kind == "ReturnVisitClosed":
            self.visit_closed = True
        elif kind == "GroupComplaintResultReported":
            self.result_reported = True
        elif kind == "ChargeableWorkCompleted":
            self.bills[event_id] = (p["total_fen"], p.get("supersedes_event_id"))
        elif kind == "ChargeVoided":
            self.voided.add(p["voided_event_id"])
        if kind in FIRST_RESPONSES and self.first_response_at is None:
            self.first_response_at = at
        if kind in CLOSINGS:
            self.closed = True


async def stored_cases(pool, estates: list[str] | None = None) -> list[StoredCase]:
    """Every case of `estates` (None: of the whole store) with its events, in store order."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT e.case_id, e.estate_id, e.event_type, e.event_id::text AS event_id, e.occurred_at,"
            " e.payload::text AS payload FROM events e WHERE e.case_id IN ("
            "  SELECT case_id FROM events WHERE event_type = 'CaseReceived' AND stream_id = case_id"
            "  AND ($1::text[] IS NULL OR estate_id = ANY($1)))"
            " ORDER BY e.position", estates)
    by_case: dict[str, list] = defaultdict(list)
    for row in rows:
        by_case[row["case_id"]].append(row)
    cases = []
    for case_id, events in by_case.items():
        [opening] = [e for e in events if e["event_type"] == "CaseReceived"]
        received = json.loads(opening["payload"])
        case = StoredCase(case_id, opening["estate_id"], received, datetime.fromisoformat(received["received_at"]))
        for e in events:
            if e is not opening:
                case.take(e["event_type"], e["event_id"], e["occurred_at"], json.loads(e["payload"]))
        cases.append(case)
    return cases


class Rounded:
    """An exact ratio as a served figure shows it: rounded to `places` decimals."""

    def __init__(self, exact: Fraction, places: int):
        self.exact, self.places = exact, places

    def __eq__(self, served: object) -> bool:
        if isinstance(served, bool) or not isinstance(served, (int, float)):
            return False
        scale = 10 ** self.places
        scaled = self.exact * scale
        below = scaled.numerator // scaled.denominator
        rest = scaled - below
        nearest = [below] if rest < Fraction(1, 2) else [below + 1] if rest > Fraction(1, 2) else [below, below + 1]
        return any(served == float(Fraction(n, scale)) for n in nearest)

    def __repr__(self) -> str:
        return f"~{float(self.exact):.{self.places + 3}f}"


def ratio(part: int, whole: int, places: int = 4) -> Rounded | None:
    return Rounded(Fraction(part, whole), places) if whole else None


def nearest_rank(values: list[float], share: Fraction) -> float | None:
    """The smallest value with at least `share` of all values at or below it."""
    at_or_below = 0
    for value, count in sorted(Counter(values).items()):
        at_or_below += count
        if at_or_below * share.denominator >= share.numerator * len(values):
            return value
    return None


def _spread(values: list[float]) -> dict[str, Any]:
    return {"count": len(values), "median": nearest_rank(values, MEDIAN), "p90": nearest_rank(values, P90)}


def _seconds(case: StoredCase, at: datetime | None) -> list[float]:
    return [] if at is None else [(at - case.received_at).total_seconds()]


def _place(location: dict[str, Any]) -> str:
    if location.get("building"):
        return f"building {location['building']}"
    return location.get("area") or "unknown"


def top_problems(cases: list[StoredCase]) -> list[dict[str, Any]]:
    counts = Counter((_place(c.received["location"]), c.received.get("category") or "none") for c in cases)
    with_count: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pair, n in counts.items():
        with_count[n].append(pair)
    ranked = [{"location": place, "category": category, "count": n}
              for n in sorted(with_count, reverse=True) for place, category in sorted(with_count[n])]
    return ranked[:TOP]


def _compliance(cases: list[StoredCase]) -> dict[str, dict[str, Any]]:
    met: Counter = Counter()
    breached: Counter = Counter()
    for c in cases:
        for obligation, rule in c.clock_rules.items():
            if obligation in c.breached:
                breached[rule] += 1
            elif obligation in c.met:
                met[rule] += 1
    return {rule: {"met": met[rule], "breached": breached[rule],
                   "compliance": ratio(met[rule], met[rule] + breached[rule])} for rule in set(met) | set(breached)}


def _return_visits(cases: list[StoredCase]) -> dict[str, Any]:
    completed = [c for c in cases if c.completed_at]
    visited = sum(1 for c in completed if c.visits)
    last = Counter(c.visits[-1] for c in cases if c.visits)
    visits = sum(last.values())
    return {"completed": len(completed), "visited": visited, "coverage": ratio(visited, len(completed)),
            "satisfaction": dict(last), "satisfied_share": ratio(last["satisfied"], visits)}


def _paid_work(cases: list[StoredCase]) -> dict[str, int]:
    paying = total = 0
    for c in cases:
        superseded = {supersedes for _, supersedes in c.bills.values()}
        standing = [fen for event_id, (fen, _) in c.bills.items() if event_id not in superseded | c.voided]
        paying += bool(standing)
        total += sum(standing)
    return {"cases": paying, "total_fen": total}


def month_figures(cases: list[StoredCase]) -> dict[str, Any]:
    """Every figure of one month's cases (already chosen by month and estate)."""
    response, resolution = [], []
    for c in cases:
        response += _seconds(c, c.first_response_at)
        resolution += _seconds(c, c.completed_at[-1] if c.completed_at else c.archived_at)
    breaches = sum(len(set(c.clock_rules) & c.breached) for c in cases)
    return {
        "total": len(cases),
        "by_type": dict(Counter(c.received["type"] for c in cases)),
        "by_category": dict(Counter(f"{c.received['type']}/{c.received.get('category') or 'none'}" for c in cases)),
        "by_channel": dict(Counter(c.received["channel"] for c in cases)),
        "by_department": dict(Counter(c.departments[0] if c.departments else "unrouted" for c in cases)),
        "response_seconds": _spread(response),
        "resolution_seconds": _spread(resolution),
        "sla_compliance": _compliance(cases),
        "breaches": breaches,
        "escalations_by_level": dict(Counter(str(level) for c in cases for level in c.escalation_levels)),
        "repeat_complaints": sum(c.repeat for c in cases),
        "file_cards_opened": sum(any(c.clock_rules.get(o) == FILE_CARD_RULE for o in c.breached) for c in cases),
        "return_visits": _return_visits(cases),
        "visit_reachability": {"reached": sum(len(c.visits) for c in cases),
                               "unreachable_attempts": sum(c.unreachable for c in cases),
                               "closed_unreachable": sum(c.visit_closed for c in cases)},
        "mailbox_items": {"raised": sum(len(c.mailbox) for c in cases),
                          "acknowledged": sum(len(c.mailbox & c.acknowledged) for c in cases)},
        "paid_work": _paid_work(cases),
        "group_register": {"transferred": sum(c.on_group_register for c in cases),
                           "results_reported": sum(c.on_group_register and c.result_reported for c in cases)},
        "top_problems": top_problems(cases),
    }


def _against(now: int, before: int) -> dict[str, Any]:
    return {"previous": before, "delta": now - before, "percent": ratio(100 * (now - before), before, places=2)}


def previous_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def report(cases: list[StoredCase], month: str, estate_id: str | None) -> dict[str, Any]:
    """The whole monthly answer for `month`, one estate or (None) all of `cases`' estates."""
    mine = [c for c in cases if estate_id is None or c.estate_id == estate_id]
    current = month_figures([c for c in mine if c.month == month])
    before = [c for c in mine if c.month == previous_month(month)]
    before_types = Counter(c.received["type"] for c in before)
    types = set(current["by_type"]) | set(before_types)
    return {"month": month, "estate_id": estate_id, **current, "change": {
        "total": _against(current["total"], len(before)),
        "by_type": {t: _against(current["by_type"].get(t, 0), before_types[t]) for t in types}}}


def differences(served: dict[str, Any], recounted: dict[str, Any]) -> list[str]:
    """Each figure where the served answer and the recount disagree, in words."""
    out = [f"{name}: served but not recounted" for name in sorted(set(served) - set(recounted))]
    for name, expected in recounted.items():
        if name not in served:
            out.append(f"{name}: recounted but not served")
        elif served[name] != expected:
            out.append(f"{name}: served {served[name]!r}, recounted {expected!r}")
    return out
