"""Estate set-up and policy as typed models: what `PUT /v1/estates/{id}` and `PUT …/policy`
accept. Everything a consumer relies on is checked here — a timezone that exists, ids present
and unique, grids over buildings the estate has, dates that are dates, numbers in range — so
a stored set-up or policy can never make dispatch, SLA or the daily check raise."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt,
                      StringConstraints, field_validator, model_validator)

from estatedesk.inputs import Id, Input, IsoDate, Line
from services.dispatch.domain.rules import DEPARTMENTS, GRID_BUTLER, LEAST_LOADED, NOTIFY_ROLES
from services.dispatch.domain.policy import CASE_TYPES, PRIORITIES, SCOPES, SEVERITIES, MAX_STAFF_PER_TARGET
from services.sla.domain.sla_policy import DEFAULT_RULES, MILESTONES
from services.intake.domain.coverage import DEFAULT_LIABILITY_YEARS
from services.intake.domain.repeats import DEFAULT_WINDOW_DAYS

PUBLIC_GRID_PLACE = "public"
EARLIEST_HANDOVER, LATEST_HANDOVER = date(1950, 1, 1), date(2100, 12, 31)
Place = Annotated[Line, Field(min_length=1, max_length=64)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
MAX_PRICE_FEN = 100_000_000  # a million yuan a unit: anything larger is a typing slip


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("is not a timezone of the IANA database, e.g. Asia/Shanghai")
    return value


def _plausible_handover(value: date | None) -> date | None:
    if value is not None and not EARLIEST_HANDOVER <= value <= LATEST_HANDOVER:
        raise ValueError(f"must lie between {EARLIEST_HANDOVER} and {LATEST_HANDOVER}")
    return value


Handover = Annotated[IsoDate | None, AfterValidator(_plausible_handover)]


def _unique(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    twice = sorted({v for v in values if v in seen or seen.add(v)})
    if twice:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(twice)}")
    return values


class Unit(Input):
    id: Place
    name: Name | None = None
    handover_date: Handover = Field(None, description="Overrides the building's handover date")
    rooms: list[Place] = Field([], max_length=2000)

    @field_validator("rooms")
    @classmethod
    def _rooms_unique(cls, rooms: list[str]) -> list[str]:
        return _unique(rooms, "room ids")


class Building(Input):
    id: Place
    name: Name | None = None
    handover_date: Handover = Field(None, description="When the developer handed the building over; "
                                                      "in-home repairs are judged against it")
    units: list[Unit] = Field([], max_length=500)

    @field_validator("units")
    @classmethod
    def _units_unique(cls, units: list[Unit]) -> list[Unit]:
        _unique([u.id for u in units], "unit ids")
        return units


class Grid(Input):
    id: Id
    butler: Id | None = Field(None, description="The grid's butler, who coordinates its cases")
    buildings: list[Place] = Field([], max_length=500, description=f"Building ids; {PUBLIC_GRID_PLACE!r} "
                                                                    "takes the public areas")
    areas: list[Place] = Field([], max_length=200, description="Named public areas, e.g. north gate")


class EstateSetup(Input):
    name: Name
    timezone: Annotated[Line, AfterValidator(_known_zone)] = "Asia/Shanghai"
    buildings: list[Building] = Field([], max_length=500)
    grids: list[Grid] = Field([], max_length=100)
    staff: dict[Literal[DEPARTMENTS], Annotated[list[Id], Field(max_length=500)]] = Field(  # type: ignore[valid-type]
        {}, description="User ids per department; department staff act on their department's cases")

    @field_validator("buildings")
    @classmethod
    def _buildings_unique(cls, buildings: list[Building]) -> list[Building]:
        _unique([b.id for b in buildings], "building ids")
        return buildings

    @field_validator("grids")
    @classmethod
    def _grids_unique(cls, grids: list[Grid]) -> list[Grid]:
        _unique([g.id for g in grids], "grid ids")
        return grids

    @model_validator(mode="after")
    def _references_hold(self) -> "EstateSetup":
        known = {b.id for b in self.buildings} | {PUBLIC_GRID_PLACE}
        for grid in self.grids:
            missing = [b for b in grid.buildings if b not in known]
            if missing:
                raise ValueError(f"grid {grid.id} lists buildings the estate does not have: {', '.join(missing)}")
        for department, members in self.staff.items():
            _unique(members, f"staff of {department}")
        return self


# --- policy -----------------------------------------------------------------------------------

Clock = Annotated[str, Field(strict=True, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Names = Annotated[list[Annotated[Line, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=50)]


def _as_list(value: object) -> object:
    # a rule author may write "repair" for ["repair"]; one shape keeps error paths plain
    return [value] if isinstance(value, str) else value


def _one_or_many(allowed: tuple[str, ...]):
    return Annotated[list[Literal[allowed]], BeforeValidator(_as_list),  # type: ignore[valid-type]
                     Field(min_length=1, max_length=len(allowed))]


Words = Annotated[list[Annotated[Line, Field(min_length=1, max_length=64)]], BeforeValidator(_as_list),
                  Field(min_length=1, max_length=50)]


class HoursIn(Input):
    model_config = {"extra": "forbid", "populate_by_name": True}
    from_: Clock = Field(alias="from")
    to: Clock


class LocationCondition(Input):
    buildings: Names | None = None
    areas: Names | None = None
    public_area: StrictBool | None = None


class WhenIn(Input):
    type: _one_or_many(CASE_TYPES) | None = None  # type: ignore[valid-type]
    category: Words | None = None
    scope: _one_or_many(SCOPES) | None = None  # type: ignore[valid-type]
    severity: _one_or_many(SEVERITIES) | None = None  # type: ignore[valid-type]
    location: LocationCondition | None = None
    hours: HoursIn | None = None
    keywords: Words | None = None


class TargetIn(Input):
    department: Literal[DEPARTMENTS]  # type: ignore[valid-type]
    staff: StrictInt = Field(1, ge=1, le=MAX_STAFF_PER_TARGET)
    assign: Literal[LEAST_LOADED, GRID_BUTLER] = LEAST_LOADED  # type: ignore[valid-type]


class RuleIn(Input):
    id: Annotated[Line, Field(min_length=1, max_length=64)]
    when: WhenIn = WhenIn()
    route: list[TargetIn] = Field(min_length=1, max_length=len(DEPARTMENTS))
    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]
    notify: _one_or_many(NOTIFY_ROLES) | None = None  # type: ignore[valid-type]


class DispatchBlock(Input):
    max_bounces: StrictInt = Field(3, ge=0, le=20, description="Rejections before the supervisor takes over")
    rules: list[RuleIn] = Field([], max_length=200)


SLA_RULES = tuple(r.rule for r in DEFAULT_RULES)
ESCALATION_ROLES = ("supervisor", "estate_manager", "general_manager", "group_service_center")
MAX_TARGET_MINUTES = 30 * 24 * 60
MIN_WORKING_MINUTES = 60


class EscalationIn(Input):
    to_role: Literal[ESCALATION_ROLES]  # type: ignore[valid-type]
    after_minutes: StrictInt = Field(0, ge=0, le=MAX_TARGET_MINUTES)
    reason: Annotated[Line, Field(max_length=200)] = ""


class SlaRuleIn(Input):
    target_minutes: StrictInt | None = Field(None, ge=0, le=MAX_TARGET_MINUTES)
    working_days: StrictInt | None = Field(None, ge=0, le=60)
    clock: Literal["24x7", "business_hours"] | None = None
    warn_at: StrictFloat | None = Field(None, gt=0, lt=1)
    pausable: StrictBool | None = None
    enabled: StrictBool | None = None
    escalations: list[EscalationIn] | None = Field(None, max_length=5)


class CalendarIn(Input):
    spans: list[tuple[Clock, Clock]] = Field(min_length=1, max_length=6,
                                             description='Working hours of a working day, e.g. [["08:30", "17:30"]]')

    @field_validator("spans")
    @classmethod
    def _ordered(cls, spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
        minutes = [(int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])) for a, b in spans]
        if any(start >= end for start, end in minutes):
            raise ValueError("each span must end after it starts, within the day")
        ordered = sorted(minutes)
        if any(prev[1] > nxt[0] for prev, nxt in zip(ordered, ordered[1:])):
            raise ValueError("spans must not overlap")
        if sum(end - start for start, end in minutes) < MIN_WORKING_MINUTES:
            raise ValueError(f"a working day needs at least {MIN_WORKING_MINUTES} minutes")
        return spans


Milestone = Literal[tuple(MILESTONES)]  # type: ignore[valid-type]
RuleName = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{2,47}$")]


class CustomRuleIn(Input):
    """A clock of the estate's own beside the built-in ones, e.g. a public-area repair resolved
    in 24 h, an in-home repair in 48 h, a consultation answered in 2 working hours."""

    name: RuleName = Field(description="lower_case name, not one of the built-in rules")
    case_types: list[Literal[CASE_TYPES]] = Field(min_length=1, max_length=len(CASE_TYPES))  # type: ignore[valid-type]
    scope: Literal[SCOPES] | None = Field(None, description="Repairs only: in_home or public_area")  # type: ignore[valid-type]
    categories: list[Annotated[Line, Field(min_length=1, max_length=64)]] = Field([], max_length=30)
    starts_on: list[Milestone] = Field(["received"], min_length=1, max_length=len(MILESTONES))
    met_by: list[Milestone] = Field(min_length=1, max_length=len(MILESTONES))
    target_minutes: StrictInt | None = Field(None, gt=0, le=MAX_TARGET_MINUTES)
    working_days: StrictInt | None = Field(None, gt=0, le=60, description="Instead of target_minutes, on working hours")
    clock: Literal["24x7", "business_hours"] = "24x7"
    pausable: StrictBool = Field(False, description="Waiting on the resident stops the clock")
    warn_at: StrictFloat | None = Field(0.8, gt=0, lt=1)
    escalations: list[EscalationIn] | None = Field(
        None, max_length=5, description="Who is told when it slips; by default the supervisor, [] for nobody")

    @model_validator(mode="after")
    def _one_target(self) -> "CustomRuleIn":
        if (self.target_minutes is None) == (self.working_days is None):
            raise ValueError("give either target_minutes or working_days")
        if self.name in SLA_RULES:
            raise ValueError(f"{self.name} is a built-in rule; tune it under rules instead")
        return self


class SlaBlock(Input):
    calendar: CalendarIn | None = None
    rules: dict[Literal[SLA_RULES], SlaRuleIn] = {}  # type: ignore[valid-type]
    custom_rules: list[CustomRuleIn] | None = Field(None, max_length=50, description="The estate's own clocks")

    @field_validator("custom_rules")
    @classmethod
    def _names_unique(cls, own: list[CustomRuleIn] | None) -> list[CustomRuleIn] | None:
        _unique([o.name for o in own or []], "custom rule names")
        return own


class WarrantyBlock(Input):
    liability_years: dict[Literal[tuple(DEFAULT_LIABILITY_YEARS)], Annotated[  # type: ignore[misc]
        StrictInt, Field(ge=0, le=70)]] = Field({}, description="Years of developer liability per component")


class ComplaintsBlock(Input):
    repeat_window_days: StrictInt = Field(DEFAULT_WINDOW_DAYS, ge=1, le=3650,
                                          description="A second complaint on the same matter within it is a repeat")


class FeedbackBlock(Input):
    due_at: Clock = Field("17:00", description="Estate time by which every department sends its daily feedback")
    working_days_only: StrictBool = Field(False, description="Owed on working days only; by default every day")
    manager_after_minutes: StrictInt = Field(120, ge=0, le=24 * 60,
                                             description="Still missing this long after, the estate manager is told")


class PolicyIn(Input):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {"examples": [{
            "dispatch": {"max_bounces": 3, "rules": [{
                "id": "night-leaks", "when": {"type": "repair", "keywords": ["漏水", "leak"],
                                              "hours": {"from": "22:00", "to": "06:00"}},
                "route": [{"department": "engineering"}, {"department": "security", "staff": 1}],
                "priority": "urgent"}]},
        }]},
    }
    dispatch: DispatchBlock | None = Field(None, description="Routing rules tried before the defaults")
    sla: SlaBlock | None = Field(None, description="Service targets, clocks and escalation chains")
    warranty: WarrantyBlock | None = Field(None, description="Liability years per component")
    complaints: ComplaintsBlock | None = Field(None, description="e.g. repeat window in days")
    feedback: FeedbackBlock | None = Field(None, description="Daily departmental feedback: due time, which days")

    def blocks(self) -> dict:
        """The blocks this request carries, as stored (absent ones are carried over)."""
        return {name: getattr(self, name).model_dump(mode="json", by_alias=True, exclude_none=True)
                for name in ("dispatch", "sla", "warranty", "complaints", "feedback") if getattr(self, name) is not None}


class FeeItemIn(Input):
    code: Id = Field(description="What a completion names the item by, e.g. PL-TRAP")
    name: Name = Field(description="What the bill calls it")
    unit: Annotated[Line, Field(min_length=1, max_length=20)] = Field(description="e.g. piece, hour, metre")
    price_fen: StrictInt = Field(ge=0, le=MAX_PRICE_FEN, description="Price per unit in fen (1 yuan = 100 fen)")


class FeeScheduleIn(Input):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [{"items": [
        {"code": "PL-TRAP", "name": "Kitchen P-trap", "unit": "piece", "price_fen": 3500},
        {"code": "LABOUR-H", "name": "Plumber's labour", "unit": "hour", "price_fen": 5000}]}]}}
    items: list[FeeItemIn] = Field(max_length=1000, description="The estate's price list for paid work (003 §4.9)")

    @field_validator("items")
    @classmethod
    def _codes_unique(cls, items: list[FeeItemIn]) -> list[FeeItemIn]:
        _unique([item.code for item in items], "item codes")
        return items


MAX_HOLIDAYS, MAX_WORKING_DAYS = 80, 40
"""A year has some 30 holiday days and a handful of adjusted working days; beyond these
bounds a table is a mistake, and it can never leave a year without working time."""


def _distinct_days(days: list[date]) -> list[date]:
    twice = sorted({d for i, d in enumerate(days) if d in days[:i]})
    if twice:
        raise ValueError(f"must not repeat a day; repeated: {', '.join(map(str, twice))}")
    return days


class WorkingCalendarIn(Input):
    """One year's official working calendar (国务院办公厅 holiday notice): `PUT /v1/calendar/{year}`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"holidays": ["2027-01-01", "2027-02-06", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
         "working_days": ["2027-02-07", "2027-02-20"]}]})
    holidays: Annotated[list[IsoDate], Field(max_length=MAX_HOLIDAYS), AfterValidator(_distinct_days)] = Field(
        description="Public holidays of the year: no working day, whatever the weekday")
    working_days: Annotated[list[IsoDate], Field(max_length=MAX_WORKING_DAYS), AfterValidator(_distinct_days)] = Field(
        description="Adjusted working days (调休) of the year: working days, whatever the weekday")

    @field_validator("working_days")
    @classmethod
    def _not_also_a_holiday(cls, days: list[date], info) -> list[date]:
        both = sorted(set(days) & set(info.data.get("holidays") or ()))
        if both:
            raise ValueError(f"a day is a holiday or a working day, not both: {', '.join(map(str, both))}")
        return days

    def outside(self, year: int) -> list[tuple[str, str]]:
        """The days that do not lie in `year`, by field."""
        return [(f"{name}.{i}", f"is not in {year}") for name in ("holidays", "working_days")
                for i, day in enumerate(getattr(self, name)) if day.year != year]
