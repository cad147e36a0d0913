"""Putting people on a routed case: the grid butler, or the least-loaded staff of each department.

A department that cannot be staffed is held by the customer-service supervisor, with the
reason recorded, so no part of a case is silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .assignment import pick_least_loaded
from .case_facts import CaseFacts
from .estate import EstateDirectory
from .rules import GRID_BUTLER, Target
from .state import DispatchState


@dataclass(frozen=True)
class Staffing:
    assignees: Mapping[str, tuple[str, ...]]  # department -> staff, in the order of the targets
    unstaffed: Mapping[str, str]  # department -> why nobody of it could be assigned
    rotation: Mapping[str, str]  # department -> round-robin cursor after these picks

    @property
    def first_assignee(self) -> str | None:
        staffed = (s for d, staff in self.assignees.items() if d not in self.unstaffed for s in staff)
        return next(staffed, None)


def staff_targets(targets: tuple[Target, ...], case: CaseFacts, estate: EstateDirectory,
                  state: DispatchState, kept: Mapping[str, tuple[str, ...]]) -> Staffing:
    """Assignees per target; `kept` are the staff already on the case, who stay on it when re-routed."""
    load = dict(state.load(estate.estate_id))
    assignees: dict[str, tuple[str, ...]] = {}
    unstaffed: dict[str, str] = {}
    rotation: dict[str, str] = {}
    for target in targets:
        department = target.department
        if kept.get(department):
            assignees[department] = kept[department]
            continue
        if target.assign == GRID_BUTLER:
            butler = estate.grid_butler(case)
            picked = (butler,) if butler else ()
            why = f"no grid butler owns {_place(case)} at estate {estate.estate_id}"
        else:
            pool = estate.pool(department)
            picked, cursor = pick_least_loaded(pool, target.staff, load, state.cursor(estate.estate_id, department))
            if cursor:
                rotation[department] = cursor
            why = f"no {department} staff at estate {estate.estate_id}"
        if not picked:
            unstaffed[department] = why
            picked = (estate.supervisor,) if estate.supervisor else ()
        for staff in picked:
            load[staff] = load.get(staff, 0) + 1
        assignees[department] = picked
    return Staffing(assignees, unstaffed, rotation)


def _place(case: CaseFacts) -> str:
    return f"building {case.building}" if case.building else f"public area {case.area or '(unnamed)'}"
