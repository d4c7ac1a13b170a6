"""A PostgreSQL server for the tests: the one .ci/run started (SOPAUDIT_TEST_PG_URL), else a
temporary one started here with Debian's initdb/pg_ctl on 127.0.0.1, else none (tests skip)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as Debian's postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_temporary() -> tuple[str | None, str, callable]:
    """(url, reason, stop): url None with the reason when no server can be started."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not bins:
        return None, "no PostgreSQL server: SOPAUDIT_TEST_PG_URL is unset and initdb is not installed " \
                     "(apt-get install postgresql)", lambda: None
    bindir = Path(bins[-1]).parent
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return None, "no PostgreSQL server: running as root without runuser", lambda: None
    data = Path(tempfile.mkdtemp(prefix="sopaudit-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()

    def stop():
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)

    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--no-sync"]), check=True, capture_output=True, timeout=120)
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-t", "60",
                                     "-l", str(data / "server.log"), "-o",
                                     f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off",
                                     "start"]), check=True, capture_output=True, timeout=90)
    except (subprocess.SubprocessError, OSError) as exc:
        stop()
        return None, f"no PostgreSQL server: starting a temporary one failed ({exc})", lambda: None
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", "", stop


def fresh_database(url: str) -> str:
    """Create an empty database on the server of `url`; returns its URL."""
    import sqlalchemy as sa

    name = f"sopaudit_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
