"""Running a service: uvicorn around a FastAPI app built by the service's factory."""
from __future__ import annotations

import logging
import sys
from typing import Callable, TextIO

import uvicorn
from fastapi import FastAPI

from estatedesk.config import Settings

from .logs import JsonLines, RepeatLimit

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def configure_logging(settings: Settings, service: str, stream: TextIO | None = None) -> None:
    """Every record of the process, uvicorn's and warnings' included, as one JSON line."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines(service))
    handler.addFilter(RepeatLimit())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.estatedesk_log_level.upper())
    for name in UVICORN_LOGGERS:  # uvicorn's own config would give them plain-text handlers
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.captureWarnings(True)


def run(service: str, factory: Callable[[Settings], FastAPI]) -> None:
    settings = Settings()
    configure_logging(settings, service)
    uvicorn.run(
        factory(settings),
        host=settings.estatedesk_host,
        port=settings.service_port(service),
        log_config=None,  # keep the handler configure_logging installed
        log_level=settings.estatedesk_log_level.lower(),
        access_log=False,
    )
