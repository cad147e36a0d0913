"""A running `estatedesk dev` leaves where it listens in `{data dir}/state.json`; the CLI fills
what the environment leaves empty from it, while its process lives."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from estatedesk.config import Settings
from estatedesk.infra.state_file import read_state, remove_state, settings_with_state, state_path, write_state

DEV_DATABASE = "postgresql://postgres@127.0.0.1:55999/estatedesk"
DEV_BROKER = "127.0.0.1:9999"


@pytest.fixture
def running_dev(tmp_path) -> Settings:
    """The settings a `dev` run (this test process, alive) recorded."""
    dev = Settings(database_url=DEV_DATABASE, kafka_bootstrap_servers=DEV_BROKER, analytics_port=18004,
                   estatedesk_group_prefix="dev-7", estatedesk_data_dir=str(tmp_path))
    write_state(dev, os.getpid())
    return dev


def plain_shell(tmp_path) -> Settings:
    return Settings(database_url="", kafka_bootstrap_servers="", estatedesk_data_dir=str(tmp_path))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def test_a_plain_shell_takes_the_running_stacks_servers_and_ports(tmp_path, running_dev):
    settings, note = settings_with_state(plain_shell(tmp_path), environ={})
    assert note is None
    assert (settings.database_url, settings.kafka_bootstrap_servers) == (DEV_DATABASE, DEV_BROKER)
    assert (settings.analytics_port, settings.estatedesk_group_prefix) == (18004, "dev-7")
    recorded = json.loads(state_path(tmp_path).read_text())
    assert recorded["pid"] == os.getpid()
    assert recorded["service_urls"]["analytics"] == "http://127.0.0.1:18004"
    assert "estatedesk_secret" not in recorded


def test_a_variable_set_in_the_environment_wins_over_the_file(tmp_path, running_dev):
    mine = "postgresql://ops@db.internal:5432/estatedesk"
    shell = Settings(database_url=mine, kafka_bootstrap_servers="", analytics_port=9004,
                     estatedesk_data_dir=str(tmp_path))
    settings, _ = settings_with_state(shell, environ={"DATABASE_URL": mine, "ANALYTICS_PORT": "9004"})
    assert (settings.database_url, settings.analytics_port) == (mine, 9004)
    assert settings.kafka_bootstrap_servers == DEV_BROKER


def test_a_file_whose_dev_process_is_gone_is_ignored_with_a_note(tmp_path, running_dev):
    write_state(running_dev, dead_pid())
    settings, note = settings_with_state(plain_shell(tmp_path), environ={})
    assert settings.database_url == ""
    assert "no longer running" in note and str(state_path(tmp_path)) in note and "\n" not in note


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"pid": "1"}', '{"pid": 0}',
                                     '{"pid": 1, "analytics_port": "eighty"}'])
def test_a_file_dev_did_not_write_is_ignored(tmp_path, content):
    state_path(tmp_path).write_text(content)
    assert read_state(state_path(tmp_path)) is None
    assert settings_with_state(plain_shell(tmp_path), environ={}) == (plain_shell(tmp_path), None)


def test_only_the_dev_run_that_wrote_the_file_removes_it(tmp_path, running_dev):
    remove_state(running_dev, dead_pid())  # a second `dev` that could not start
    assert state_path(tmp_path).exists()
    remove_state(running_dev, os.getpid())
    assert not state_path(tmp_path).exists()
