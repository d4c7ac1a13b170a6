"""The audit history: every audit of every batch, appended to one table through SQLAlchemy.

Any SQLAlchemy URL works (sqlite:///OUT/history.sqlite by default, postgresql+psycopg://...);
a plain path is read as an SQLite file. Rows are only ever added, never changed, so the store
is the record of what each batch found, run after run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from sopaudit.core.errors import SopAuditError

TABLE = "sopaudit_audit_history"

_meta = sa.MetaData()
runs = sa.Table(
    TABLE, _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(64), nullable=False, index=True),
    sa.Column("run_at", sa.String(40), nullable=False),  # ISO 8601, UTC
    sa.Column("plan", sa.Text),
    sa.Column("name", sa.String(200), nullable=False, index=True),
    sa.Column("office", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("sop_code", sa.String(200)),
    sa.Column("sop_version", sa.String(200)),
    sa.Column("log_sha256", sa.String(64)),
    sa.Column("sop_sha256", sa.String(64)),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("cases", sa.Integer),
    sa.Column("events", sa.BigInteger),
    sa.Column("case_conformance_rate", sa.Float),
    sa.Column("service_standard_rate", sa.Float),
    sa.Column("fitness", sa.Float),
    sa.Column("deviations", sa.Integer),
    sa.Column("inputs", sa.Text),  # JSON: role, path, sha256 of each input
    sa.Column("parameters", sa.Text),  # JSON: the plan entry as run
    sa.Column("metrics", sa.Text),  # JSON: the summary.json numbers of batch.json
)

COLUMNS = [c.name for c in runs.columns]


class HistoryError(SopAuditError):
    """The history store cannot be opened, read or written."""


def store_url(store: str | Path) -> str:
    """A URL as given; a path (a .sqlite file or a batch output folder) as an SQLite URL."""
    text = str(store)
    if "://" in text:
        return text
    path = Path(text)
    if path.is_dir():
        path = path / "history.sqlite"
    return f"sqlite:///{path.resolve().as_posix()}"


def _engine(url: str, create: bool) -> sa.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise HistoryError(f"'{url}' is not a database URL ({exc}); write e.g. sqlite:///history.sqlite or "
                           "postgresql+psycopg://user@host/db") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver sopaudit installs
    if parsed.get_backend_name() == "sqlite" and not create:
        db = parsed.database or ""
        if not db or not Path(db).is_file():
            raise HistoryError(f"no audit history at {db or url}: the file does not exist; run `sopaudit batch` "
                               "first or pass --store with the history of a batch (OUT/history.sqlite or a URL)")
    try:
        return sa.create_engine(parsed)
    except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as exc:
        raise HistoryError(f"cannot use the history store {parsed.render_as_string(hide_password=True)} "
                           f"({exc}); install its driver") from None


def _shown(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _row(batch_id: str, run_at: str, plan: str, r: dict) -> dict:
    m = r.get("metrics") or {}
    inputs = m.get("inputs") or []
    sha = {i.get("role"): i.get("sha256") for i in inputs if isinstance(i, dict)}
    sop = m.get("sop") or {}
    service = m.get("service_standard") or {}
    return {
        "batch_id": batch_id, "run_at": run_at, "plan": plan, "name": r["name"], "office": r.get("office"),
        "status": r["status"], "error": r.get("error"), "sop_code": sop.get("code"),
        "sop_version": None if sop.get("version") is None else str(sop.get("version")),
        "log_sha256": sha.get("log"), "sop_sha256": sha.get("sop"), "fingerprint": r.get("fingerprint"),
        "cases": m.get("cases"), "events": m.get("events"), "case_conformance_rate": m.get("case_conformance_rate"),
        "service_standard_rate": service.get("share_within"), "fitness": m.get("fitness"),
        "deviations": m.get("deviations"), "inputs": json.dumps(inputs, ensure_ascii=False),
        "parameters": json.dumps(r.get("parameters") or {}, ensure_ascii=False, sort_keys=True, default=str),
        "metrics": json.dumps(m, ensure_ascii=False, sort_keys=True, default=str),
    }


def append_runs(store: str | Path, batch_id: str, run_at: str, plan: str, records: list[dict]) -> int:
    """Append one row per audit record of a batch; returns the rows written."""
    url = store_url(store)
    engine = _engine(url, create=True)
    try:
        _meta.create_all(engine, tables=[runs])  # CREATE TABLE IF NOT EXISTS
        with engine.begin() as conn:
            conn.execute(runs.insert(), [_row(batch_id, run_at, plan, r) for r in records])
    except sa.exc.SQLAlchemyError as exc:
        msg = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise HistoryError(f"cannot write the audit history to {_shown(url)} ({msg})") from None
    finally:
        engine.dispose()
    return len(records)


def read_runs(store: str | Path, office: str | None = None) -> pd.DataFrame:
    """Every recorded audit (optionally of one office: its `office`, else its name), oldest first."""
    url = store_url(store)
    engine = _engine(url, create=False)
    try:
        if not sa.inspect(engine).has_table(TABLE):
            raise HistoryError(f"{_shown(url)} holds no sopaudit audit history (no table {TABLE}); "
                               "pass the --history store a batch wrote to")
        query = sa.select(runs).order_by(runs.c.run_at, runs.c.id)
        if office is not None:
            query = query.where(sa.or_(runs.c.office == office,
                                       sa.and_(runs.c.office.is_(None), runs.c.name == office)))
        with engine.connect() as conn:
            df = pd.DataFrame(conn.execute(query).mappings().all(), columns=COLUMNS)
    except sa.exc.SQLAlchemyError as exc:
        msg = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise HistoryError(f"cannot read the audit history from {_shown(url)} ({msg})") from None
    finally:
        engine.dispose()
    return df
