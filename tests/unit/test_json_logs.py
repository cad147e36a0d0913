"""Service logs are JSON lines: whatever a message holds, each record is one parseable object."""
from __future__ import annotations

import io
import json
import logging
import sys
import warnings

import pytest
import uvicorn
from hypothesis import given, strategies as st

from estatedesk.config import Settings
from estatedesk.web.logs import JsonLines
from estatedesk.web.service import UVICORN_LOGGERS, configure_logging

FORMATTER = JsonLines("intake")


def _record(msg, *args, level=logging.WARNING, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("estatedesk.test", level, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def _line(record: logging.LogRecord) -> dict:
    text = FORMATTER.format(record)
    assert "\n" not in text
    text.encode("utf-8")  # writable to any UTF-8 stream
    return json.loads(text)


@given(st.text())
def test_any_message_is_one_json_line_that_gives_it_back(message):
    assert _line(_record(message))["msg"] == message


@pytest.mark.parametrize("message", ['say "hi"\n\tthen \\ leave', "王女士 报修", "\ud800 alone", "\udfff", "\x00\x1b[31m"])
def test_quotes_newlines_non_ascii_and_surrogates(message):
    assert _line(_record("case %s: %s", "C-1", message))["msg"] == f"case C-1: {message}"


def test_a_line_names_time_service_level_logger_and_the_context_it_was_given():
    line = _line(_record("applied", event_id="0b5e", case_id="C-42"))
    assert {k: line[k] for k in ("service", "level", "logger", "msg", "event_id", "case_id")} == {
        "service": "intake", "level": "WARNING", "logger": "estatedesk.test", "msg": "applied",
        "event_id": "0b5e", "case_id": "C-42"}
    assert line["ts"].endswith("+00:00")
    assert "event_id" not in _line(_record("no context"))


def test_an_exception_travels_in_the_same_line():
    try:
        raise ValueError('bad "value"\nsecond line')
    except ValueError:
        line = _line(_record("failed", level=logging.ERROR, exc_info=sys.exc_info()))
    assert line["msg"] == "failed"
    assert "ValueError: bad \"value\"\nsecond line" in line["exc"]


def test_arguments_that_do_not_fit_the_message_still_give_a_line():
    assert "C-1" in _line(_record("%d cases", "C-1"))["msg"]


@pytest.fixture
def restored_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved_uvicorn = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
                     for name in UVICORN_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (handlers, propagate) in saved_uvicorn.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    logging.captureWarnings(False)


def test_uvicorn_and_warnings_go_through_the_same_lines(restored_logging):
    out = io.StringIO()
    configure_logging(Settings(estatedesk_log_level="INFO"), "analytics", stream=out)
    uvicorn.Config(app=lambda scope, receive, send: None, log_config=None, log_level="info", access_log=False)
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://127.0.0.1:8004")
    logging.getLogger("estatedesk.eventstore.relay").warning("outbox relay lost the database (%s)", "EOF\n")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("an old call")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["service"]) for line in lines] == [
        ("uvicorn.error", "analytics"), ("estatedesk.eventstore.relay", "analytics"), ("py.warnings", "analytics")]
    assert lines[1]["msg"] == "outbox relay lost the database (EOF\n)"


def test_a_repeated_warning_is_shown_once_per_interval_with_the_count_held_back():
    import logging

    from estatedesk.web.logs import RepeatLimit

    now = [0.0]
    limit = RepeatLimit(interval_s=10, now=lambda: now[0])

    def record(msg: str, level: int = logging.WARNING, *args) -> logging.LogRecord:
        return logging.LogRecord("aiokafka", level, __file__, 1, msg, args, None)

    shown = []
    for second in range(0, 25):
        now[0] = float(second)
        for _ in range(100):  # an outage: a hundred alike a second
            r = record("Unable connect to node with id %s", logging.WARNING, 1)
            if limit.filter(r):
                shown.append((second, getattr(r, "repeated", 0)))
    assert shown == [(0, 0), (10, 999), (20, 999)]
    assert limit.filter(record("another warning"))  # its own template: not held back
    assert all(limit.filter(record("failed", logging.ERROR)) for _ in range(3))  # errors always pass
    line = FORMATTER.format(_with(record("x"), repeated=5))
    assert '"repeated": 5' in line


def _with(record, **attrs):
    for name, value in attrs.items():
        setattr(record, name, value)
    return record


def test_every_record_logged_while_a_message_is_applied_names_its_case_and_correlation():
    import json
    import logging

    from estatedesk.web.logs import about

    record = logging.LogRecord("aiokafka", logging.WARNING, __file__, 1, "a library speaks", (), None)
    with about(case_id="C-1", correlation_id="C-1", event_id="e-9"):
        inside = json.loads(FORMATTER.format(record))
    outside = json.loads(FORMATTER.format(record))
    assert (inside["case_id"], inside["correlation_id"], inside["event_id"]) == ("C-1", "C-1", "e-9")
    assert "case_id" not in outside
