"""A real PostgreSQL server for the end-to-end suite (Debian's ``postgresql`` package): a fresh cluster in a
temporary directory on a loopback port, password authentication, removed at the end.

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user the package
creates. When the server cannot start the suite fails, saying why: it is never skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.e2e.harness import free_port

USER = "proxy"
PASSWORD = "e2e-store-password"
DATABASE = "proxy_store"


def server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: the stored-responses tests need it (Debian: apt-get install postgresql; "
            "./scripts/test installs it when run as root)"
        )
    return Path(found[-1]).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = server_binaries()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="proxy-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        password_file = self.root / "pw"
        password_file.write_text(PASSWORD)
        if self._as_user:
            os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--auth=scram-sha-256", f"--pwfile={password_file}",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start",
            "-o", f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off",
        )  # fmt: skip
        self.url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"
        self._create_database()

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_user, str(self.bin / tool), *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            server_log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL {tool} failed:\n{done.stdout}\n{done.stderr}\n{server_log}")

    def _create_database(self) -> None:
        deadline = time.monotonic() + 30
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        while True:
            done = subprocess.run(
                ["psql", self.url, "-c", f"CREATE DATABASE {DATABASE}"],
                capture_output=True, text=True, timeout=30, check=False, env=env,
            )  # fmt: skip
            if done.returncode == 0:
                self.url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not accept the test database: {done.stderr}")
            time.sleep(0.2)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
