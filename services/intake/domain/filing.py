"""Who may file a case, on which channel and from which origin: one table.

Complaints the group transfers into an estate (002 §4.2.2) come from the group customer-service
centre or the quality office, so only group roles file on channel `group_transfer` or with
one of those origins. A resident files from the app, and only for their own household.
Staff of an estate log what reaches them by phone, at the desk, in the app or on patrol.
"""
from __future__ import annotations

from .errors import NotPermitted

_ESTATE_CHANNELS = frozenset({"phone", "walk_in", "app", "patrol"})
_EVERY_CHANNEL = _ESTATE_CHANNELS | {"group_transfer"}
_GROUP_ORIGINS = frozenset({"group_center", "quality_office"})
_EVERY_ORIGIN = _GROUP_ORIGINS | {"resident"}

# role: (channels it files on, complaint origins it files)
FILING: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "resident": (frozenset({"app"}), frozenset({"resident"})),
    "front_desk": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "butler": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "supervisor": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "department_staff": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "department_head": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "estate_manager": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "general_manager": (_ESTATE_CHANNELS, frozenset({"resident"})),
    "group_service_center": (_EVERY_CHANNEL, _EVERY_ORIGIN),
    "group_admin": (_EVERY_CHANNEL, _EVERY_ORIGIN),
}
OWN_HOUSEHOLD_ONLY = frozenset({"resident"})


def check_filing(role: str, household: str | None, *, channel: str, type: str, origin: str | None,
                 reporter_household: str | None) -> None:
    """Raise NotPermitted unless `role` (with `household`, the one a resident's token names)
    may file a case of `type` on `channel`; `origin` is the complaint's, None meaning the
    default, `resident`; `reporter_household` the household the case is filed for."""
    channels, origins = FILING.get(role, (frozenset(), frozenset()))
    if channel not in channels:
        raise NotPermitted(f"a {role} does not file cases on channel {channel}")
    if type == "complaint" and (origin or "resident") not in origins:
        raise NotPermitted(f"only the group files complaints of origin {origin}")
    if role in OWN_HOUSEHOLD_ONLY and (household is None or reporter_household != household):
        raise NotPermitted("a resident files cases for their own household only")
