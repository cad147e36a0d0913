"""Choosing assignees within a department: fewest open cases first, ties taken round robin."""
from __future__ import annotations

from typing import Mapping, Sequence


def pick_least_loaded(pool: Sequence[str], count: int, open_cases: Mapping[str, int],
                      cursor: str | None) -> tuple[tuple[str, ...], str | None]:
    """`count` distinct staff from `pool` (fewer if the pool is smaller), and the cursor after them.

    The cursor is the staff member last picked from this pool; a tie goes to the first tied
    member after it in roster order, wrapping round.
    """
    load = dict(open_cases)
    chosen: list[str] = []
    for _ in range(min(count, len(pool))):
        candidates = [s for s in pool if s not in chosen]
        fewest = min(load.get(s, 0) for s in candidates)
        tied = {s for s in candidates if load.get(s, 0) == fewest}
        pick = _next_in_rotation(pool, tied, cursor)
        chosen.append(pick)
        load[pick] = load.get(pick, 0) + 1
        cursor = pick
    return tuple(chosen), cursor


def _next_in_rotation(pool: Sequence[str], tied: set[str], cursor: str | None) -> str:
    start = list(pool).index(cursor) + 1 if cursor in pool else 0
    rotation = [*pool[start:], *pool[:start]]
    return next(s for s in rotation if s in tied)
