"""Receiving a case at the front desk (002 §4.1–4.3): validation and the CaseReceived fact."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from estatedesk.contracts.events import CaseReceived, Location, ReporterRef

from .errors import InvalidCommand
from .estate import Estate

CASE_TYPES = ("consultation", "suggestion", "help", "complaint", "repair", "violation")
CHANNELS = ("phone", "walk_in", "app", "patrol", "group_transfer")
EMERGENCIES = frozenset({"medical", "security_incident", "disaster"})
HELP_CATEGORIES = EMERGENCIES | {"other"}
VIOLATION_CATEGORIES = frozenset(
    {"decoration", "fire_safety", "environment", "public_security", "fee_refusal", "harming_others"}
)
MAX_BACKDATING = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=2)
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\+?\d{7,15})$")


@dataclass(frozen=True)
class NewCase:
    estate_id: str
    type: str
    channel: str
    title: str
    location: dict[str, Any]
    reporter: dict[str, Any]
    category: str | None = None
    description: str = ""
    received_at: datetime | None = None
    blocks: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = phone.replace("-", "")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def receive(new: NewCase, estate: Estate, now: datetime) -> CaseReceived:
    """Validate a new case against its estate; the fact to record, or InvalidCommand."""
    errors: list[tuple[str, str]] = []
    if new.type not in CASE_TYPES:
        errors.append(("type", f"must be one of {', '.join(CASE_TYPES)}"))
    if new.channel not in CHANNELS:
        errors.append(("channel", f"must be one of {', '.join(CHANNELS)}"))
    if not new.title.strip():
        errors.append(("title", "must not be empty"))
    errors += _location_errors(new, estate)
    phone = new.reporter.get("phone")
    if phone is not None and not _PHONE.match(str(phone)):
        errors.append(("reporter.phone", "is not a phone number"))
    received_at = new.received_at or now
    if received_at.tzinfo is None:
        errors.append(("received_at", "must carry a timezone offset"))
    elif received_at > now + CLOCK_SKEW:
        errors.append(("received_at", "is in the future"))
    elif received_at < now - MAX_BACKDATING:
        errors.append(("received_at", "may be back-dated by 7 days at most"))
    errors += _type_block_errors(new)
    if errors:
        raise InvalidCommand(errors)
    emergency = new.type == "help" and new.category in EMERGENCIES
    return CaseReceived(
        type=new.type,
        category=new.category,
        channel=new.channel,
        title=new.title.strip(),
        description=new.description,
        location=Location(**new.location),
        reporter=ReporterRef(household_id=new.reporter.get("household_id"), phone_masked=mask_phone(phone)),
        received_at=received_at,
        priority="urgent" if emergency else "normal",
        **{name: new.blocks.get(name) for name in ("repair", "complaint", "help", "violation") if name == new.type},
    )


def _location_errors(new: NewCase, estate: Estate) -> list[tuple[str, str]]:
    loc = new.location
    if not loc.get("area") and not loc.get("building"):
        return [("location", "needs a building or a public area")]
    building = loc.get("building")
    if building and not estate.has_building(str(building)):
        return [("location.building", f"estate {estate.estate_id} has no building {building}")]
    return []


def _type_block_errors(new: NewCase) -> list[tuple[str, str]]:
    block = new.blocks.get(new.type)
    if new.type == "repair":
        if not block or block.get("scope") not in ("public_area", "in_home"):
            return [("repair.scope", "must be public_area or in_home")]
        if block["scope"] == "in_home" and not new.location.get("room"):
            return [("location.room", "an in-home repair needs the room")]
    if new.type == "help" and new.category not in HELP_CATEGORIES:
        return [("category", f"a help request is one of {', '.join(sorted(HELP_CATEGORIES))}")]
    if new.type == "violation":
        if new.category not in VIOLATION_CATEGORIES:
            return [("category", f"a violation is one of {', '.join(sorted(VIOLATION_CATEGORIES))}")]
        if not block or block.get("severity") not in ("general", "major"):
            return [("violation.severity", "must be general or major")]
    if new.type == "complaint":
        if block and block.get("origin", "resident") not in ("resident", "group_center", "quality_office"):
            return [("complaint.origin", "must be resident, group_center or quality_office")]
    return []
