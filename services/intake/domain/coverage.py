"""Warranty at intake (002 §4.3): is an in-home repair still covered by the developer's liability?

Liability periods follow the PRC Regulations on Quality Management of Construction Projects
(建设工程质量管理条例 art. 40) unless the estate's policy says otherwise.
"""
from __future__ import annotations

from datetime import date

from estatedesk.contracts.case_events import WarrantyDetermined

DEFAULT_LIABILITY_YEARS = {
    "waterproofing": 5,  # roofs, toilets, rooms and outer walls against leaks
    "plumbing": 2, "electrical": 2, "equipment": 2, "decoration": 2, "heating": 2,
    "structure": 50,  # foundations and main structure: the design life
}
COMPONENT_OF_CATEGORY = {
    "leak": "waterproofing", "waterproofing": "waterproofing", "seepage": "waterproofing",
    "plumbing": "plumbing", "drainage": "plumbing", "water": "plumbing",
    "electrical": "electrical", "power": "electrical", "lighting": "electrical",
    "door": "decoration", "window": "decoration", "wall": "decoration", "floor": "decoration",
    "heating": "heating", "structure": "structure", "crack": "structure",
}
FALLBACK_COMPONENT = "equipment"


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def determine(category: str | None, handover: date | None, on: date, liability: dict[str, int] | None = None,
              override: bool | None = None, override_reason: str | None = None) -> WarrantyDetermined:
    """The warranty decision for a repair reported `on` a day, with the rule that decided it."""
    years_by_component = {**DEFAULT_LIABILITY_YEARS, **(liability or {})}
    component = COMPONENT_OF_CATEGORY.get((category or "").lower(), FALLBACK_COMPONENT)
    years = years_by_component.get(component, years_by_component[FALLBACK_COMPONENT])
    if override is not None:
        return WarrantyDetermined(in_warranty=override, rule="desk_override", component=component,
                                  handover_date=handover, liability_years=years, overridden=True,
                                  override_reason=override_reason)
    if handover is None:  # no record to hold against the resident: the developer's liability applies
        return WarrantyDetermined(in_warranty=True, rule="handover_date_unknown", component=component,
                                  liability_years=years)
    covered = on < _years_later(handover, years)
    return WarrantyDetermined(in_warranty=covered, rule=f"{component}_{years}_years_from_handover",
                              component=component, handover_date=handover, liability_years=years)
