"""Where a running `estatedesk dev` can be reached: `{ESTATEDESK_DATA_DIR}/state.json`.

`estatedesk dev` writes it once the stack is up and removes it on stop, so the operator
commands in a plain shell of the checkout find the embedded PostgreSQL, broker and service
ports without anyone typing them. The file is only a hint: a variable set in the environment
always wins, and a file whose `dev` process is gone (a killed run leaves it behind) is ignored.
The secret is never written; tokens are signed with the one the environment gives.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

from estatedesk.config import Settings
from estatedesk.infra.stack import SERVICES

FILE_NAME = "state.json"
# The settings a CLI command takes from the file, each unless its variable is set.
RECORDED = ("database_url", "kafka_bootstrap_servers", "estatedesk_host", "estatedesk_group_prefix",
            "estatedesk_topic_partitions", *(f"{name}_port" for name in SERVICES))


def state_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / FILE_NAME


def write_state(settings: Settings, pid: int) -> Path:
    """Record where the stack `settings` describe listens, for the `dev` process `pid`."""
    path = state_path(settings.estatedesk_data_dir)
    state = {field: getattr(settings, field) for field in RECORDED}
    state["pid"] = pid
    state["service_urls"] = {name: f"http://{settings.estatedesk_host}:{settings.service_port(name)}"
                             for name in SERVICES}
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed, so a reader never sees half a file.
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)
    return path


def remove_state(settings: Settings, pid: int) -> None:
    """Remove the file if `pid` wrote it: a second `dev` that failed to start (its ports were
    taken) must not remove the file of the one still running."""
    path = state_path(settings.estatedesk_data_dir)
    state = read_state(path)
    if state is not None and state["pid"] == pid:
        path.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def read_state(path: Path) -> dict | None:
    """The recorded settings and pid, or None when the file is absent or not one `dev` wrote."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("pid"), int) or state["pid"] <= 0:
        return None
    recorded = {field: state[field] for field in RECORDED if field in state}
    try:
        Settings(**recorded)  # the same types the environment would have to give
    except ValueError:
        return None
    return {**recorded, "pid": state["pid"]}


def settings_with_state(settings: Settings, environ: Mapping[str, str]) -> tuple[Settings, str | None]:
    """`settings` completed from a live state file for every setting `environ` leaves empty,
    and a one-line note when a stale file was ignored."""
    path = state_path(settings.estatedesk_data_dir)
    state = read_state(path)
    if state is None:
        return settings, None
    if not process_alive(state["pid"]):
        return settings, (f"note: ignoring {path}: the `estatedesk dev` that wrote it (pid {state['pid']})"
                          " is no longer running")
    missing = {field: value for field, value in state.items()
               if field in RECORDED and not environ.get(field.upper())}
    return Settings(**{**settings.model_dump(), **missing}), None
