"""Who works where in an estate, as dispatch needs it: grids with their butlers, staff per department.

Built from the estate's EstateConfigured payload. Grids list building ids; a grid may also
list "public" (it owns the public areas) and named public areas ("north gate").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from .case_facts import CaseFacts

PUBLIC = "public"


@dataclass(frozen=True)
class Grid:
    grid_id: str
    butler: str | None
    places: frozenset[str]  # building ids, "public", named public areas


@dataclass(frozen=True)
class EstateDirectory:
    estate_id: str
    timezone: str = "Asia/Shanghai"
    grids: tuple[Grid, ...] = ()
    staff: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    supervisor: str | None = None
    estate_manager: str | None = None

    @classmethod
    def from_configured(cls, estate_id: str, payload: Mapping[str, Any]) -> "EstateDirectory":
        staff = {dept: tuple(str(s) for s in members) for dept, members in (payload.get("staff") or {}).items()}
        grids = tuple(Grid(str(g["id"]), g.get("butler"),
                           frozenset(str(p) for p in [*g.get("buildings", []), *g.get("areas", [])]))
                      for g in payload.get("grids") or [])
        return cls(estate_id, payload.get("timezone") or "Asia/Shanghai", grids, staff,
                   payload.get("supervisor") or _supervisor_among(staff),
                   payload.get("estate_manager") or _first(staff.get("estate_manager")))

    def grid_for(self, case: CaseFacts) -> Grid | None:
        """The grid owning the case's place: its building, else its named area, else the "public" grid."""
        if case.building is not None:
            return self._grid_listing(case.building)
        return (case.area and self._grid_listing(case.area)) or self._grid_listing(PUBLIC)

    def grid_butler(self, case: CaseFacts) -> str | None:
        grid = self.grid_for(case)
        return grid.butler if grid else None

    def coordinator_for(self, case: CaseFacts) -> str | None:
        # a place no grid owns is a gap in the estate set-up; the supervisor coordinates meanwhile
        return self.grid_butler(case) or self.supervisor

    def pool(self, department: str) -> tuple[str, ...]:
        """Staff who may be assigned work of a department, in roster order."""
        members = self.staff.get(department, ())
        # the supervisor is where failures land, so takes routine desk work only when alone
        routine = tuple(m for m in members if m != self.supervisor)
        return routine or members

    def local_time(self, now: datetime) -> time:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(ZoneInfo(self.timezone)).time()

    def _grid_listing(self, place: str) -> Grid | None:
        return next((g for g in self.grids if place in g.places), None)


def _supervisor_among(staff: Mapping[str, tuple[str, ...]]) -> str | None:
    # early estate set-ups (the demo among them) name no supervisor; its staff id says who it is
    explicit = _first(staff.get("supervisor"))
    return explicit or next((s for s in staff.get("customer_service", ()) if "supervisor" in s), None)


def _first(members: tuple[str, ...] | None) -> str | None:
    return members[0] if members else None
