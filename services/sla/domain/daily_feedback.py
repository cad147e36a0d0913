"""Daily departmental feedback (002 §4.7) as a pure decision: given a day, the departments,
who has reported and what was already raised, which flags are due now.

The seed says daily, so weekends and holidays count unless the estate's policy asks for
working days only. A department that has not reported by the due time is flagged and its
supervisor told; still silent `manager_after` later, the estate manager is told."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

RULE = "daily_feedback"
DEFAULT_DUE = time(17, 0)
DEFAULT_MANAGER_AFTER = timedelta(hours=2)
LADDER = ((1, "supervisor"), (2, "estate_manager"))


@dataclass(frozen=True)
class FeedbackRules:
    due: time = DEFAULT_DUE
    working_days_only: bool = False
    manager_after: timedelta = DEFAULT_MANAGER_AFTER


def rules_from(block: dict[str, Any] | None) -> FeedbackRules:
    """The estate policy's `feedback` block (validated by intake) over the defaults."""
    block = block or {}
    return FeedbackRules(due=time.fromisoformat(block.get("due_at", DEFAULT_DUE.isoformat("minutes"))),
                         working_days_only=bool(block.get("working_days_only", False)),
                         manager_after=timedelta(minutes=block.get("manager_after_minutes", 120)))


@dataclass(frozen=True)
class Flag:
    department: str
    day: date
    level: int
    to_role: str
    at: datetime  # when it came due, not when it was noticed

    @property
    def obligation_id(self) -> str:
        return f"{RULE}:{self.department}:{self.day.isoformat()}"


def due_at(day: date, zone: ZoneInfo, rules: FeedbackRules) -> datetime:
    return datetime.combine(day, rules.due, zone)


def owed(day: date, working_day: bool, rules: FeedbackRules) -> bool:
    """Whether feedback is owed at all that day."""
    return working_day or not rules.working_days_only


def due_flags(day: date, departments: list[str], reported: set[str], raised: set[tuple[str, int]],
              now: datetime, zone: ZoneInfo, rules: FeedbackRules, working_day: bool) -> list[Flag]:
    """The flags due by `now` for `day` that were not raised yet; level 1 is the miss itself."""
    if not owed(day, working_day, rules):
        return []
    first = due_at(day, zone, rules)
    steps = ((1, "supervisor", first), (2, "estate_manager", first + rules.manager_after))
    return [Flag(d, day, level, role, at) for d in sorted(set(departments) - reported)
            for level, role, at in steps if now >= at and (d, level) not in raised]


def escalations_of_day(raised: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """The feedback escalations (payloads of EscalationRaised) about `day`, each with its
    department, read back from the obligation id a Flag gave it."""
    found = []
    for payload in raised:
        rule, _, rest = (payload.get("obligation_id") or "").partition(":")
        department, _, flagged_day = rest.partition(":")
        if rule == RULE and flagged_day == day.isoformat():
            found.append({"department": department, "level": payload["level"], "to_role": payload["to_role"],
                          "raised_at": payload["raised_at"]})
    return found


def day_view(day: date, departments: list[str], reports: dict[str, dict], flags: list[dict],
             now: datetime, zone: ZoneInfo, rules: FeedbackRules, working_day: bool) -> dict[str, Any]:
    """What `GET …/daily-feedback?day=` answers: who reported, who missed, who is still due."""
    due = due_at(day, zone, rules)
    escalated: dict[str, list[dict]] = {}
    for f in flags:
        escalated.setdefault(f["department"], []).append(f)
    rows = []
    for d in sorted(set(departments)):
        if d in reports:
            status = "reported"
        elif not owed(day, working_day, rules):
            status = "not_owed"
        elif now >= due:
            status = "missed"
        else:
            status = "pending"
        rows.append({"department": d, "status": status, "report": reports.get(d),
                     "escalations": sorted(escalated.get(d, []), key=lambda e: e["level"])})
    return {"day": day.isoformat(), "due_at": due.isoformat(), "owed": owed(day, working_day, rules),
            "reported": [r["department"] for r in rows if r["status"] == "reported"],
            "missed": [r["department"] for r in rows if r["status"] == "missed"], "departments": rows}
