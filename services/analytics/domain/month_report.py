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

import math
from collections import Counter
from datetime import datetime
from typing import Any, Iterable

from .group_register import on_group_register

TOP_PROBLEMS = 10


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _seconds(start: str, end: str | None) -> float | None:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() if end else None


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"count": len(values), "median": percentile(values, 0.5), "p90": percentile(values, 0.9)}


def figures(views: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of SPEC §3 "Monthly statistics" for these views."""
    views = list(views)
    response, resolution = [], []
    compliance: dict[str, Counter] = {}
    escalations: Counter = Counter()
    satisfaction: Counter = Counter()
    problems: Counter = Counter()
    completed = visited = breaches = paid_cases = paid_fen = 0
    for v in views:
        if (s := _seconds(v["received_at"], v["first_response_at"])) is not None:
            response.append(s)
        resolved_at = v["completed_at"] or (v["closed_at"] if v["status"] == "archived" else None)
        if (s := _seconds(v["received_at"], resolved_at)) is not None:
            resolution.append(s)
        for d in v["deadlines"]:
            tally = compliance.setdefault(d["rule"], Counter())
            if d["breached"]:
                tally["breached"] += 1
                breaches += 1
            elif d["met_at"]:
                tally["met"] += 1
        escalations.update(str(e["level"]) for e in v["escalations"])
        if v["completed_at"]:
            completed += 1
            if v["return_visits"]:
                visited += 1
        if v["return_visits"]:
            satisfaction[v["return_visits"][-1]["satisfaction"]] += 1
        if v["charges"]:
            paid_cases += 1
            paid_fen += sum(c["total_fen"] for c in v["charges"])
        place = v["location"].get("building") and f"building {v['location']['building']}" or v["location"].get("area")
        problems[(place or "unknown", v["category"] or "none")] += 1
    visits = sum(satisfaction.values())
    return {
        "total": len(views),
        "by_type": dict(Counter(v["type"] for v in views)),
        "by_category": dict(Counter(f"{v['type']}/{v['category'] or 'none'}" for v in views)),
        "by_channel": dict(Counter(v["channel"] for v in views)),
        "by_department": dict(Counter((v["departments"] or ["unrouted"])[0] for v in views)),
        "response_seconds": _spread(response),
        "resolution_seconds": _spread(resolution),
        "sla_compliance": {rule: {"met": t["met"], "breached": t["breached"],
                                  "compliance": round(t["met"] / (t["met"] + t["breached"]), 4)}
                           for rule, t in sorted(compliance.items()) if t["met"] + t["breached"]},
        "breaches": breaches,
        "escalations_by_level": dict(sorted(escalations.items())),
        "repeat_complaints": sum(1 for v in views if v["repeat_of"]),
        "file_cards_opened": sum(1 for v in views if v.get("file_card")),
        "return_visits": {"completed": completed, "visited": visited,
                          "coverage": round(visited / completed, 4) if completed else None,
                          "satisfaction": dict(satisfaction),
                          "satisfied_share": round(satisfaction["satisfied"] / visits, 4) if visits else None},
        "visit_reachability": {"reached": sum(len(v["return_visits"]) for v in views),
                               "unreachable_attempts": sum(len(v.get("visit_attempts", [])) for v in views),
                               "closed_unreachable": sum(1 for v in views if v.get("visit_closed"))},
        "mailbox_items": {"raised": sum(len(v.get("mailbox", [])) for v in views),
                          "acknowledged": sum(1 for v in views for i in v.get("mailbox", []) if i["acknowledged_at"])},
        "paid_work": {"cases": paid_cases, "total_fen": paid_fen},
        "group_register": group_register(views),
        "top_problems": [{"location": place, "category": category, "count": n}
                         for (place, category), n in sorted(problems.items(), key=lambda x: (-x[1], x[0]))
                         [:TOP_PROBLEMS]],
    }


def group_register(views: list[dict[str, Any]]) -> dict[str, int]:
    transferred = [v for v in views if on_group_register(v)]
    return {"transferred": len(transferred), "results_reported": sum(1 for v in transferred if v.get("group_result"))}


def change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """This month against the last: total and each type, absolute and in per cent."""
    def delta(now: int, before: int) -> dict[str, Any]:
        return {"previous": before, "delta": now - before,
                "percent": round(100 * (now - before) / before, 2) if before else None}

    types = sorted(set(current["by_type"]) | set(previous["by_type"]))
    return {"total": delta(current["total"], previous["total"]),
            "by_type": {t: delta(current["by_type"].get(t, 0), previous["by_type"].get(t, 0)) for t in types}}
