"""The AsyncAPI document: generated from the contract models, true to the topics and their
readers, and a record of published message versions that a changed payload cannot slip past.

`record_problems` returns what keeps the committed record from describing the code; the
tests after the first show that it notices the typical mistakes: a payload changed under a
published schema version.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import jsonschema_rs
import pytest

from estatedesk.cli import main as cli_main
from estatedesk.contracts import CASE_EVENTS, EVENT_TYPES, SLA_EVENTS, TOPICS, Envelope, encode, topic_of
from estatedesk.contracts import case_events, events
from estatedesk.contracts.asyncapi import current_messages, document, generate, message, message_id
from estatedesk.contracts.events import CURRENT_VERSION
from estatedesk.contracts.published_versions import RECORD, dumps, load, record_problems, updated
from estatedesk.contracts.topology import CONSUMERS, PRODUCER

COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")  # AsyncAPI 3: keys of channels, operations, components


class SlaMet(events.SlaMet):
    """SlaMet as a developer might change it: a new required field, the version left at 1."""

    met_by: str


class InspectionRecorded(case_events.InspectionRecorded):
    """Version 1 as it was published: it named the inspector."""

    inspector: str


def committed() -> dict[str, Any]:
    recorded = load()
    assert recorded is not None, f"{RECORD} is missing: run `estatedesk asyncapi --write`"
    return recorded


def with_message(model: type, schema_version: int, *, replacing: str | None = None) -> dict[str, Any]:
    """The generated document with `model` at `schema_version` (instead of `replacing`)."""
    messages = current_messages()
    topic = topic_of(model.event_type())
    messages[topic].pop(replacing, None)
    messages[topic][message_id(model.event_type(), schema_version)] = message(model, schema_version, topic)
    return document(messages)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(asyncapi: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node = asyncapi
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- the committed record --------------------------------------------------------------

def test_the_record_holds_every_current_version_with_exactly_its_generated_schema():
    assert record_problems(committed(), generate()) == []


def test_every_current_event_on_a_topic_is_a_message_of_its_channel():
    channels = committed()["channels"]
    assert sorted(channel["address"] for channel in channels.values()) == sorted(TOPICS)
    for event_type, version in CURRENT_VERSION.items():
        topic = topic_of(event_type)
        listed = {key for channel in channels.values() for key in channel["messages"]}
        if topic:
            assert message_id(event_type, version) in channels[topic]["messages"], event_type
        else:  # an estate's own events stay in the store
            assert not any(key.startswith(f"{event_type}.v") for key in listed), event_type


def test_every_ref_resolves():
    asyncapi = committed()
    found = set(refs(asyncapi))
    assert any("/$defs/" in ref for ref in found)  # nested schemas are referenced, not only messages
    for ref in found:
        resolve(asyncapi, ref)


def test_the_document_has_the_structure_of_asyncapi_3():
    asyncapi = committed()
    assert asyncapi["asyncapi"] == "3.0.0"
    assert all(isinstance(asyncapi["info"][field], str) and asyncapi["info"][field]
               for field in ("title", "version", "description"))
    messages = asyncapi["components"]["messages"]
    for section in (asyncapi["channels"], asyncapi["operations"], messages):
        assert all(COMPONENT_KEY.match(key) for key in section), sorted(section)
    on_channels = set()
    for key, channel in asyncapi["channels"].items():
        assert channel["bindings"]["kafka"]["topic"] == channel["address"]
        for name, ref in channel["messages"].items():
            assert ref == {"$ref": f"#/components/messages/{name}"}
            on_channels.add(name)
    assert on_channels == set(messages), "every message travels on a channel"
    for key, found in messages.items():
        envelope = found["payload"]
        assert (found["contentType"], envelope["type"]) == ("application/json", "object")
        assert key == message_id(found["name"], envelope["properties"]["schema_version"]["const"])
        assert envelope["properties"]["event_type"]["const"] == found["name"]
        assert found["bindings"]["kafka"]["key"]["type"] == "string"
        assert {"event_id", "case_id", "schema_version", "payload"} <= set(envelope["required"])
    for key, operation in asyncapi["operations"].items():
        assert operation["action"] in ("send", "receive")
        channel = operation["channel"]["$ref"]
        assert channel.startswith("#/channels/") and resolve(asyncapi, channel)
        # AsyncAPI 3: an operation's messages are messages of its own channel
        assert all(m["$ref"].startswith(f"{channel}/messages/") for m in operation["messages"]), key


def test_each_topic_is_sent_by_its_producer_and_received_by_each_reader():
    operations = committed()["operations"]
    expected = {(PRODUCER[topic], "send", topic) for topic in TOPICS}
    expected |= {(reader, "receive", topic) for topic in TOPICS for reader in CONSUMERS[topic]}
    found = {(key.split("-")[0], op["action"], op["channel"]["$ref"].removeprefix("#/channels/"))
             for key, op in operations.items()}
    assert found == expected


def test_a_billing_message_describes_the_envelope_around_its_payload():
    current = f"ChargeableWorkCompleted.v{CURRENT_VERSION['ChargeableWorkCompleted']}"
    bill = committed()["components"]["messages"][current]["payload"]
    assert bill["properties"]["producer"]["const"] == "intake"
    payload = bill["properties"]["payload"]
    assert payload["additionalProperties"] is False and "supersedes_event_id" in payload["properties"]
    assert payload["properties"]["charge_lines"]["items"]["$ref"].endswith("/$defs/ChargeLine")
    model = EVENT_TYPES["ChargeableWorkCompleted"].model_json_schema(
        ref_template=f"#/components/messages/{current}/payload/$defs/{{model}}")
    assert bill["$defs"] == model.pop("$defs") and payload == model


def validator_of(asyncapi: dict[str, Any], key: str) -> jsonschema_rs.Draft202012Validator:
    """Message `key`'s schema, its references resolved in the document around it."""
    return jsonschema_rs.Draft202012Validator({**asyncapi, "$ref": f"#/components/messages/{key}/payload"},
                                              validate_formats=True)


def test_a_bill_as_intake_writes_it_is_a_valid_message_and_an_unknown_field_is_not():
    at = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
    bill = case_events.ChargeableWorkCompleted(
        completion_number=1, charge_lines=[case_events.ChargeLine(item="tap", quantity=1, unit_price_fen=3500,
                                                                  total_fen=3500)],
        total_fen=3500, reason="out_of_warranty_repair", completed_at=at, household_id="H-3-2-1502",
        location_id="3-2-1502")
    wire = json.loads(Envelope(event_id=uuid.uuid4(), event_type=bill.event_type(), schema_version=2,
                               case_id="C-1", estate_id="E001",
                               occurred_at=at, recorded_at=at, producer="intake", correlation_id="c",
                               payload=encode(bill)).to_bytes())
    validator = validator_of(committed(), "ChargeableWorkCompleted.v2")
    assert list(validator.iter_errors(wire)) == []
    assert not validator_of(committed(), "SlaMet.v1").is_valid(wire)
    wire["payload"]["charge_lines"][0]["discount_fen"] = 100  # checked through the ChargeLine definition
    assert not validator.is_valid(wire)


# --- the check notices a changed payload -----------------------------------------------

def _payload(asyncapi: dict, key: str) -> dict:
    return asyncapi["components"]["messages"][key]["payload"]["properties"]["payload"]


MISTAKES: dict[str, Callable[[dict], None]] = {
    "extra required field": lambda d: (_payload(d, "SlaBreached.v1")["properties"].update(reopened={"type": "boolean"}),
                                       _payload(d, "SlaBreached.v1")["required"].append("reopened")),
    "field removed": lambda d: _payload(d, "CaseReceived.v1")["properties"].pop("title"),
    "type changed": lambda d: _payload(d, "WorkCompleted.v2")["properties"]["completion_number"].update(type="string"),
    "enum narrowed": lambda d: _payload(d, "ChargeableWorkCompleted.v2")["properties"]["reason"].update(
        enum=["paid_help"]),
    "nested definition changed": lambda d: d["components"]["messages"]["WorkCompleted.v2"]["payload"]["$defs"][
        "ChargeLine"]["required"].remove("total_fen"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_the_record_check_notices(mistake):
    generated = copy.deepcopy(generate())
    MISTAKES[mistake](generated)
    problems = record_problems(committed(), generated)
    assert problems and all("bump schema_version of " in p for p in problems), problems


def test_a_changed_model_without_a_new_version_names_the_event():
    assert record_problems(committed(), with_message(SlaMet, 1)) == [
        "SlaMet schema version 1 differs from the published one: "
        "bump schema_version of SlaMet (and add an upcaster) instead of changing it"]


def test_new_words_in_a_description_need_no_new_version():
    generated = copy.deepcopy(generate())
    _payload(generated, "SlaMet.v1")["description"] = "The obligation was met in time."
    assert updated(committed(), generated)["components"]["messages"]["SlaMet.v1"] == \
        generated["components"]["messages"]["SlaMet.v1"]


def test_a_new_version_is_added_and_the_published_one_stays_deprecated():
    bumped = with_message(SlaMet, 2, replacing="SlaMet.v1")
    record = updated(committed(), bumped)
    assert record_problems(record, bumped) == []
    old, new = (record["components"]["messages"][key] for key in ("SlaMet.v1", "SlaMet.v2"))
    assert old["payload"]["deprecated"] is True and "deprecated" not in new["payload"]
    assert _payload(record, "SlaMet.v1") == _payload(committed(), "SlaMet.v1")
    assert {"SlaMet.v1", "SlaMet.v2"} <= set(record["channels"][SLA_EVENTS]["messages"])
    # a later write keeps the deprecated version
    assert updated(record, bumped) == record


# --- estatedesk asyncapi ---------------------------------------------------------------

def test_the_command_prints_the_committed_document():
    code, out, _ = run_cli("asyncapi")
    assert code == 0 and json.loads(out) == committed()


def test_write_refuses_to_change_a_published_version(tmp_path):
    path = tmp_path / "asyncapi.json"
    published = with_message(SlaMet, 1)  # the record says SlaMet v1 had met_by; the code has none
    path.write_text(dumps(published))
    code, _, err = run_cli("asyncapi", "--write", str(path))
    assert code == 2
    assert "bump schema_version of SlaMet" in err
    assert path.read_text() == dumps(published)


def test_write_adds_the_current_version_beside_an_earlier_published_one(tmp_path):
    path = tmp_path / "asyncapi.json"
    before_v2 = with_message(InspectionRecorded, 1, replacing="InspectionRecorded.v2")
    path.write_text(dumps(before_v2))
    code, out, _ = run_cli("asyncapi", "--write", str(path))
    assert code == 0 and str(path) in out
    record = json.loads(path.read_text())
    assert record_problems(record, generate()) == []
    channel = record["channels"][CASE_EVENTS]["messages"]
    assert {"InspectionRecorded.v1", "InspectionRecorded.v2"} <= set(channel)
    v1 = record["components"]["messages"]["InspectionRecorded.v1"]["payload"]
    assert v1["deprecated"] is True and "inspector" in v1["properties"]["payload"]["required"]


def test_write_to_a_new_path_records_the_generated_document(tmp_path):
    path = tmp_path / "asyncapi.json"
    assert run_cli("asyncapi", "--write", str(path))[0] == 0
    assert json.loads(path.read_text()) == generate()
