"""`estatedesk trace`: its arguments are checked like the APIs check them, and its report
shows a case's events, who applied them, and the log lines that name it."""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import pytest

from estatedesk.operate import arguments
from estatedesk.operate.trace import CaseTrace, log_lines, render

CASE = "C-0123456789ABCDEF"
AT = datetime(2026, 10, 5, 8, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", ["2026-13", "2026-1", "1999-12", "2026-10\n", "October"])
def test_a_month_outside_yyyy_mm_is_refused(value):
    with pytest.raises(argparse.ArgumentTypeError):
        arguments.month(value)


@pytest.mark.parametrize("value", ["", "-C1", "C 1", "C-1\n", "C/1", "x" * 65, "*"])
def test_an_id_that_breaks_the_id_pattern_is_refused(value):
    with pytest.raises(argparse.ArgumentTypeError):
        arguments.identifier("a case")(value)


def test_ids_and_months_the_apis_take_pass():
    assert arguments.month("2026-10") == "2026-10"
    assert arguments.identifier("an estate")("E001") == "E001"


def test_only_the_log_records_of_the_case_are_picked(tmp_path):
    (tmp_path / "intake.log").write_text("\n".join([
        json.dumps({"ts": "t1", "service": "intake", "level": "WARNING", "msg": "relay slow", "case_id": CASE}),
        json.dumps({"ts": "t2", "service": "intake", "level": "INFO", "msg": f"mentions {CASE} in text only"}),
        json.dumps({"ts": "t3", "service": "intake", "level": "INFO", "msg": "other", "case_id": CASE + "0"}),
        f"not json but {CASE}",
    ]) + "\n")
    (tmp_path / "broker.log").write_text(f"INFO tansu: {CASE}\n")
    assert [r["ts"] for r in log_lines(tmp_path.glob("*.log"), CASE)] == ["t1"]


def test_the_report_shows_each_event_its_topic_and_how_far_each_consumer_applied_it():
    trace = CaseTrace(CASE, events=[
        {"stream_id": CASE, "version": 1, "position": 10, "event_id": "a", "event_type": "CaseReceived",
         "recorded_at": AT},
        {"stream_id": f"{CASE}/dispatch", "version": 1, "position": 12, "event_id": "b",
         "event_type": "CaseDispatched", "recorded_at": AT},
    ], applied={"dispatch": 10, "sla": 12},
        log_lines=[{"ts": "t1", "service": "sla", "level": "WARNING", "msg": "timer late"}])
    text = "\n".join(render(trace))
    assert "CaseReceived" in text and "case-events" in text and "dispatch-events" in text
    assert "dispatch                 up to position 10 (1 of 2 events)" in text
    assert "sla                      up to position 12 (2 of 2 events)" in text
    assert "waiting in the outbox:\n  nothing" in text and "dead letters:\n  none" in text
    assert "timer late" in text
