"""Service logs as JSON lines: one object per record, whatever the message holds.

A record's message may quote anything a client or a broker sent, newlines and lone
surrogates included. `json.dumps` escapes the first; a lone surrogate it would leave as
is (with `ensure_ascii=False`), which no UTF-8 stream can write, so it is written as its
`\\uXXXX` escape, the JSON for the same string. Other non-ASCII text stays readable.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

CONTEXT = ("event_id", "case_id", "correlation_id")
"""Attributes a record may carry (`log.warning(..., extra={"case_id": ...})`) that become fields.
Inside `about(...)` every record carries them, whoever logs it (a library's warning included),
so one case can be followed through every service's log (`estatedesk trace`)."""
_ABOUT: contextvars.ContextVar[dict] = contextvars.ContextVar("estatedesk_log_about", default={})


@contextmanager
def about(**fields) -> Iterator[None]:
    """Records logged inside the block are about these (case_id, event_id, correlation_id)."""
    token = _ABOUT.set({**_ABOUT.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _ABOUT.reset(token)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escape_surrogate(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


class JsonLines(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format must not lose the record
            message = f"{record.msg!s} {record.args!r}"
        line = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "service": self.service, "level": record.levelname, "logger": record.name, "msg": message}
        around = _ABOUT.get()
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is None:
                value = around.get(name)
            if value is not None:
                line[name] = str(value)
        repeated = getattr(record, "repeated", None)
        if repeated:
            line["repeated"] = repeated  # like records held back since the last one shown
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        text = json.dumps(line, ensure_ascii=False, default=str)
        return _SURROGATE.sub(_escape_surrogate, text)


class RepeatLimit(logging.Filter):
    """Lets a warning through once per `interval_s` per logger and message template, and says
    how many like it were held back, so an outage (a broker away, a database restarting) reads
    as a few lines with counts instead of thousands. Errors and below-warning records pass.

    `now` is passed in (monotonic seconds) so the rule is testable without waiting."""

    def __init__(self, interval_s: float = 10.0, now=None) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._now = now or time.monotonic
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = self._now()
        seen = self._last.get(key)
        if seen is not None and now - seen[0] < self.interval_s:
            self._last[key] = (seen[0], seen[1] + 1)
            return False
        held_back = seen[1] if seen else 0
        self._last[key] = (now, 0)
        if held_back:
            record.repeated = held_back
        return True
