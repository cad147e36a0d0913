"""Service logs as JSON lines: one object per record, whatever the message holds.

A record's message may quote anything a client or a broker sent, newlines and lone
surrogates included. `json.dumps` escapes the first; a lone surrogate it would leave as
is (with `ensure_ascii=False`), which no UTF-8 stream can write, so it is written as its
`\\uXXXX` escape, the JSON for the same string. Other non-ASCII text stays readable.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

CONTEXT = ("event_id", "case_id")
"""Attributes a record may carry (`log.warning(..., extra={"case_id": ...})`) that become fields."""
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
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        text = json.dumps(line, ensure_ascii=False, default=str)
        return _SURROGATE.sub(_escape_surrogate, text)
