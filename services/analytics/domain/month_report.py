"""Monthly statistics (003 §4.10) over the case views of one month, per estate or group-wide.

Definitions, so that every figure can be checked by hand:
- the month holds the cases *received* in it (Asia/Shanghai calendar month, the group's);
- response time: received → first reply, acceptance or referral; resolution time: received →
  last completion, or → archive for cases closed without work (desk replies);
- median and p90 are nearest-rank percentiles, in seconds;
- SLA compliance per rule: clock instances met on time / instances settled (met or breached); an
  instance that breached counts as breached whatever came after it (pause, resume, reopening);
- return-visit coverage: completed cases with a visit / completed cases; satisfaction is the
  last visit of each case;
- visit reachability: visits that reached the resident, unreachable attempts, and visits a
  supervisor closed after the resident stayed unreachable;
- complaint file cards opened: the month's cases whose complaint completion deadline breached
  (one card a case, however often it breaches after a reopening);
- the general manager's mailbox: the items raised on the month's cases (each escalation to the
  general manager is one) and how many of them the general manager has acknowledged;
- paid work: the effective bills (a recompletion's bill replaces the earlier one);
- group register (002 §4.2.2): complaints of the month the group transferred in (from the group
  centre or the quality office, or naming a group reference), and how many of them have had
  their final result reported back (archived, cancelled or merged);
- by department: the first department the case is with at the end, `unrouted` while it is with
  none (never routed, or a transfer or rejection not yet decided again);
- top problems: the ten commonest (location, category) pairs, the location being the building,
  else the public area; ties in code-point order of the location, then the category;
- ratios are rounded to 4 decimals, the per-cent change to 2.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from .group_register import on_group_register

TOP_PROBLEMS = 10
GROUP_TIMEZONE = ZoneInfo("Asia/Shanghai")


def month_of(received_at: str) -> str:
    """The group's calendar month (YYYY-MM) a case received at `received_at` belongs to."""
    return datetime.fromisoformat(received_at).astimezone(GROUP_TIMEZONE).strftime("%Y-%m")


def _seconds(start: str, end: str | None) -> float | None:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() if end else None


Tally = Counter
"""A case's additive part of its month's figures: (figure, key) → amount. A month's figures are
the sum of its cases' tallies plus the nearest-rank percentiles of their durations, so a
projection keeps them by adding each case's new tally and taking away its old one."""

MEASURES = ("response", "resolution")
SHARES = (("median", 0.5), ("p90", 0.9))


def durations(v: dict[str, Any]) -> dict[str, float | None]:
    """The case's response and resolution time in seconds (None while it has none)."""
    resolved_at = v["completed_at"] or (v["closed_at"] if v["status"] == "archived" else None)
    return {"response": _seconds(v["received_at"], v["first_response_at"]),
            "resolution": _seconds(v["received_at"], resolved_at)}


def tally(v: dict[str, Any]) -> Tally:
    t: Tally = Counter({("total", ""): 1, ("type", v["type"]): 1, ("category", f"{v['type']}/{v['category'] or 'none'}"): 1,
                        ("channel", v["channel"]): 1, ("department", (v["departments"] or ["unrouted"])[0]): 1})
    for measure, seconds in durations(v).items():
        t[(measure, "")] += seconds is not None
    for d in v["deadlines"]:
        if d["breached"]:
            t[("sla_breached", d["rule"])] += 1
        elif d["met_at"]:
            t[("sla_met", d["rule"])] += 1
    for e in v["escalations"]:
        t[("escalation", str(e["level"]))] += 1
    if v["completed_at"]:
        t[("completed", "")] += 1
        t[("visited", "")] += bool(v["return_visits"])
    if v["return_visits"]:
        t[("satisfaction", v["return_visits"][-1]["satisfaction"])] += 1
    if v["charges"]:
        t[("paid_cases", "")] += 1
        t[("paid_fen", "")] += sum(c["total_fen"] for c in v["charges"])
    place = v["location"].get("building") and f"building {v['location']['building']}" or v["location"].get("area")
    t[("problem", json.dumps([place or "unknown", v["category"] or "none"], ensure_ascii=False))] += 1
    t[("repeat", "")] += bool(v["repeat_of"])
    t[("file_card", "")] += bool(v.get("file_card"))
    t[("reached", "")] += len(v["return_visits"])
    t[("unreachable_attempts", "")] += len(v.get("visit_attempts", []))
    t[("closed_unreachable", "")] += bool(v.get("visit_closed"))
    t[("mailbox_raised", "")] += len(v.get("mailbox", []))
    t[("mailbox_acknowledged", "")] += sum(1 for i in v.get("mailbox", []) if i["acknowledged_at"])
    if on_group_register(v):
        t[("register_transferred", "")] += 1
        t[("register_reported", "")] += bool(v.get("group_result"))
    return +t  # without the zeros


def rank(count: int, share: float) -> int:
    """The 0-based position of the nearest-rank percentile among `count` ordered values."""
    return max(math.ceil(share * count) - 1, 0)


def percentile(values: list[float], share: float) -> float | None:
    return sorted(values)[rank(len(values), share)] if values else None


def figures(views: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of SPEC §3 "Monthly statistics" for these views."""
    views = list(views)
    counts: Tally = sum((tally(v) for v in views), Counter())
    taken = {m: [s for v in views if (s := durations(v)[m]) is not None] for m in MEASURES}
    return summarise(counts, {(m, share): percentile(taken[m], share) for m in MEASURES for _, share in SHARES})


def summarise(counts: Tally, percentiles: dict[tuple[str, float], float | None]) -> dict[str, Any]:
    """The figures from the month's summed tallies and its durations' percentiles."""
    def of(figure: str) -> dict[str, int]:
        return {key: n for (f, key), n in counts.items() if f == figure and n}

    def spread(measure: str) -> dict[str, float | None]:
        return {"count": counts[(measure, "")], **{name: percentiles[(measure, share)] for name, share in SHARES}}

    met, breached = of("sla_met"), of("sla_breached")
    satisfaction = of("satisfaction")
    visits, completed, visited = sum(satisfaction.values()), counts[("completed", "")], counts[("visited", "")]
    problems = {tuple(json.loads(key)): n for key, n in of("problem").items()}
    return {
        "total": counts[("total", "")],
        "by_type": of("type"), "by_category": of("category"), "by_channel": of("channel"),
        "by_department": of("department"),
        "response_seconds": spread("response"),
        "resolution_seconds": spread("resolution"),
        "sla_compliance": {rule: {"met": met.get(rule, 0), "breached": breached.get(rule, 0),
                                  "compliance": round(met.get(rule, 0) / (met.get(rule, 0) + breached.get(rule, 0)), 4)}
                           for rule in sorted(met.keys() | breached.keys())},
        "breaches": sum(breached.values()),
        "escalations_by_level": dict(sorted(of("escalation").items())),
        "repeat_complaints": counts[("repeat", "")],
        "file_cards_opened": counts[("file_card", "")],
        "return_visits": {"completed": completed, "visited": visited,
                          "coverage": round(visited / completed, 4) if completed else None,
                          "satisfaction": satisfaction,
                          "satisfied_share": round(satisfaction.get("satisfied", 0) / visits, 4) if visits else None},
        "visit_reachability": {"reached": counts[("reached", "")],
                               "unreachable_attempts": counts[("unreachable_attempts", "")],
                               "closed_unreachable": counts[("closed_unreachable", "")]},
        "mailbox_items": {"raised": counts[("mailbox_raised", "")], "acknowledged": counts[("mailbox_acknowledged", "")]},
        "paid_work": {"cases": counts[("paid_cases", "")], "total_fen": counts[("paid_fen", "")]},
        "group_register": {"transferred": counts[("register_transferred", "")],
                           "results_reported": counts[("register_reported", "")]},
        "top_problems": [{"location": place, "category": category, "count": n}
                         for (place, category), n in sorted(problems.items(), key=lambda x: (-x[1], x[0]))
                         [:TOP_PROBLEMS]],
    }


def change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """This month against the last: total and each type, absolute and in per cent."""
    def delta(now: int, before: int) -> dict[str, Any]:
        return {"previous": before, "delta": now - before,
                "percent": round(100 * (now - before) / before, 2) if before else None}

    types = sorted(set(current["by_type"]) | set(previous["by_type"]))
    return {"total": delta(current["total"], previous["total"]),
            "by_type": {t: delta(current["by_type"].get(t, 0), previous["by_type"].get(t, 0)) for t in types}}
