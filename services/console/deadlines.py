"""How a deadline from the read side is shown: met, breached, warning (within the warning
share) or open, with the seconds left. Pure: `now` is an argument."""
from __future__ import annotations

from datetime import datetime

WARNING_SHARE = 0.8


def _at(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def deadline_state(deadline: dict, now: datetime) -> dict:
    due, started = _at(deadline.get("due_at")), _at(deadline.get("started_at"))
    left = (due - now).total_seconds() if due else None
    if deadline.get("met_at"):
        state = "met"
    elif deadline.get("breached") or (left is not None and left < 0):
        state = "breached"
    elif deadline.get("warned") or (due and started and due > started
                                    and (now - started) / (due - started) >= WARNING_SHARE):
        state = "warning"
    else:
        state = "open"
    return {**deadline, "state": state, "seconds_left": left}


def next_deadline(view: dict, now: datetime) -> dict | None:
    """The deadline a queue row shows: the first breached one still open, else the soonest open."""
    states = [deadline_state(d, now) for d in view.get("deadlines") or []]
    breached = [d for d in states if d["state"] == "breached"]
    if breached:
        return breached[0]
    pending = sorted((d for d in states if d["state"] in ("open", "warning") and d["seconds_left"] is not None),
                     key=lambda d: d["seconds_left"])
    return pending[0] if pending else None
