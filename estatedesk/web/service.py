"""Running a service: uvicorn around a FastAPI app built by the service's factory."""
from __future__ import annotations

import logging
from typing import Callable

import uvicorn
from fastapi import FastAPI

from estatedesk.config import Settings


def configure_logging(settings: Settings, service: str) -> None:
    logging.basicConfig(
        level=settings.estatedesk_log_level.upper(),
        format=f'{{"ts":"%(asctime)s","service":"{service}","level":"%(levelname)s","logger":"%(name)s","msg":%(message)r}}',
    )


def run(service: str, factory: Callable[[Settings], FastAPI]) -> None:
    settings = Settings()
    configure_logging(settings, service)
    uvicorn.run(
        factory(settings),
        host=settings.estatedesk_host,
        port=settings.service_port(service),
        log_level=settings.estatedesk_log_level.lower(),
        access_log=False,
    )
