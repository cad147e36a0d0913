"""Readiness of a faust app running inside a service."""
from __future__ import annotations

import faust


async def consumer_ready(stream_app: faust.App) -> tuple[bool, dict]:
    if not stream_app.started:
        return False, {"reason": "stream app not started"}
    assignment = stream_app.consumer.assignment()
    return bool(assignment), {"partitions": len(assignment)}
