"""The wire envelope and the event catalogue."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from estatedesk.contracts import EVENT_TYPES, Envelope, decode, derived_event_id, topic_of
from estatedesk.contracts.catalogue import catalogue

AT = datetime(2026, 11, 22, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def envelope(**overrides) -> Envelope:
    fields = dict(event_id=uuid.uuid4(), event_type="SlaBreached", case_id="C-1", estate_id="E001",
                  occurred_at=AT, recorded_at=AT, producer="sla", correlation_id="c",
                  payload={"obligation_id": "C-1/x", "rule": "x", "due_at": AT.isoformat(),
                           "breached_at": AT.isoformat()})
    fields.update(overrides)
    return Envelope(**fields)


def test_the_envelope_round_trips_with_rfc3339_utc_timestamps():
    original = envelope()
    wire = json.loads(original.to_bytes())
    assert wire["occurred_at"] == "2026-11-22T01:30:00Z"
    assert set(wire) == {"event_id", "event_type", "schema_version", "case_id", "estate_id", "stream_version",
                         "occurred_at", "recorded_at", "producer", "correlation_id", "causation_id", "payload"}
    assert Envelope.from_bytes(original.to_bytes()) == original


def test_naive_timestamps_are_refused():
    with pytest.raises(ValidationError):
        envelope(occurred_at=datetime(2026, 11, 22, 9, 30))


def test_payloads_are_validated_against_their_schema():
    assert decode(envelope()).rule == "x"
    with pytest.raises(ValidationError):
        decode(envelope(payload={"rule": "x"}))


def test_derived_ids_are_stable_and_distinct():
    assert derived_event_id("sla", "C-1/x", "breached") == derived_event_id("sla", "C-1/x", "breached")
    assert derived_event_id("sla", "C-1/x", "breached") != derived_event_id("sla", "C-1/x", "met")


def test_the_catalogue_lists_every_event_type_with_its_topic_and_schema():
    listed = catalogue()["events"]
    assert set(listed) == set(EVENT_TYPES)
    assert listed["CaseReceived"]["topic"] == "case-events" == topic_of("CaseReceived")
    assert listed["CaseDispatched"]["topic"] == "dispatch-events"
    assert "properties" in listed["SlaMet"]["payload"]


def test_an_inspection_names_no_inspector_and_old_ones_read_without_the_name():
    v1 = envelope(event_type="InspectionRecorded", schema_version=1, producer="intake",
                  payload={"actor": "e001-desk-zhao", "actor_role": "front_desk", "passed": True,
                           "inspector": "王女士", "inspector_role": "owner"})
    old = decode(v1)
    assert not hasattr(old, "inspector") and (old.actor, old.inspector_role) == ("e001-desk-zhao", "owner")
    listed = catalogue()["events"]["InspectionRecorded"]
    assert listed["schema_version"] == 2 and "inspector" not in listed["payload"]["properties"]
    with pytest.raises(ValidationError):
        decode(envelope(event_type="InspectionRecorded", schema_version=2, producer="intake",
                        payload={**v1.payload}))
