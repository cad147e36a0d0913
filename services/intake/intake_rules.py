"""Facts decided when a case is received, beside CaseReceived itself: warranty, repeats and
a consultation's form.

The rules are pure (domain/coverage.py, domain/repeats.py); this module fetches what they
need from the store inside the intake's transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from estatedesk.contracts import Payload
from estatedesk.contracts.case_events import ConsultationTaken
from estatedesk.contracts.events import CaseReceived

from .domain import coverage, repeats
from .domain.errors import InvalidCommand
from .domain.estate import Estate


async def extra_facts_at_intake(conn: asyncpg.Connection, body: dict[str, Any], fact: CaseReceived, estate: Estate,
                                policy: dict, now: datetime) -> list[Payload]:
    facts: list[Payload] = []
    repair = body.get("repair") or {}
    if fact.type == "repair" and repair.get("scope") == "in_home":
        override = repair.get("in_warranty")
        if override is not None and not str(repair.get("override_reason") or "").strip():
            raise InvalidCommand([("repair.override_reason", "overriding the derived warranty needs a reason")])
        location = body["location"]
        facts.append(coverage.determine(
            fact.category, estate.handover_date(location.get("building"), location.get("unit")),
            fact.received_at.date(), (policy.get("warranty") or {}).get("liability_years"),
            override, repair.get("override_reason")))
    if fact.type == "complaint":
        repeat = await _repeat_complaint(conn, body, fact, estate, policy)
        if repeat:
            facts.append(repeat)
    consultation = body.get("consultation")
    if fact.type == "consultation" and consultation:
        facts.append(ConsultationTaken(form=consultation["form"], confidential=consultation.get("confidential", False)))
    return facts


async def _repeat_complaint(conn, body, fact: CaseReceived, estate: Estate, policy: dict):
    complaint = body.get("complaint") or {}
    related = complaint.get("related_case_id")
    if related and not await conn.fetchval(
            "SELECT 1 FROM events WHERE stream_id = $1 AND version = 1 AND estate_id = $2", related, estate.estate_id):
        raise InvalidCommand([("complaint.related_case_id", f"no case {related} in estate {estate.estate_id}")])
    household = fact.reporter.household_id
    window = int((policy.get("complaints") or {}).get("repeat_window_days", repeats.DEFAULT_WINDOW_DAYS))
    earlier = []
    if household and not related:
        rows = await conn.fetch(
            "SELECT case_id, payload->>'category' AS category, (payload->>'received_at')::timestamptz AS received_at"
            " FROM events WHERE event_type = 'CaseReceived' AND estate_id = $1 AND payload->>'type' = 'complaint'"
            " AND payload->'reporter'->>'household_id' = $2", estate.estate_id, household)
        earlier = [repeats.EarlierComplaint(r["case_id"], household, r["category"], r["received_at"]) for r in rows]
    return repeats.detect(related, household, fact.category, fact.received_at, earlier, window)
