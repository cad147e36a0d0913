"""Validating the condition fields of an estate rule; each problem is reported with its path."""
from __future__ import annotations

import re
from datetime import time
from typing import Any

from .rules import LocationCondition, TimeWindow

Errors = list[tuple[str, str]]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def names(raw: Any, path: str, errors: Errors, allowed: tuple[str, ...] = ()) -> frozenset[str]:
    """A string or a list of strings; absent means no condition."""
    values = [raw] if isinstance(raw, str) else raw
    if values is None:
        return frozenset()
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        errors.append((path, "must be a non-empty string or list of non-empty strings"))
        return frozenset()
    unknown = [v for v in values if allowed and v not in allowed]
    if unknown:
        errors.append((path, f"unknown value(s) {', '.join(map(repr, unknown))}; expected {', '.join(allowed)}"))
    return frozenset(values)


def location(raw: Any, path: str, errors: Errors) -> LocationCondition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.keys() & {"buildings", "areas", "public_area"}:
        errors.append((path, "must be an object with 'buildings', 'areas' and/or 'public_area'"))
        return None
    errors += [(f"{path}.{key}", "unknown field") for key in raw if key not in {"buildings", "areas", "public_area"}]
    public_area = raw.get("public_area")
    if public_area is not None and not isinstance(public_area, bool):
        errors.append((f"{path}.public_area", "must be true or false"))
    buildings = raw.get("buildings")
    if isinstance(buildings, list):  # building ids are strings, but a JSON author may write 3 for "3"
        buildings = [str(b) if is_int(b) else b for b in buildings]
    return LocationCondition(names(buildings, f"{path}.buildings", errors),
                             names(raw.get("areas"), f"{path}.areas", errors), public_area)


def hours(raw: Any, path: str, errors: Errors) -> TimeWindow | None:
    if raw is None:
        return None
    clocks = [_CLOCK.match(raw.get(key, "")) if isinstance(raw, dict) and isinstance(raw.get(key), str) else None
              for key in ("from", "to")]
    if not all(clocks):
        errors.append((path, 'must be {"from": "HH:MM", "to": "HH:MM"} in estate-local time'))
        return None
    start, end = (time(int(m.group(1)), int(m.group(2))) for m in clocks)
    if start == end:
        errors.append((path, "'from' and 'to' must differ"))
    return TimeWindow(start, end)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
