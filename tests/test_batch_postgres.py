"""sopaudit batch against a real PostgreSQL server: the audit history stored there and an event
log read from it with a SQL query. Skips, saying why, when no server is available (fails under CI)."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from click.testing import CliRunner

from pg_server import fresh_database, start_temporary
from sopaudit.cli import main

from conftest import PASSPORT_SOP, unavailable


@pytest.fixture(scope="module")
def pg_url():
    url = os.environ.get("SOPAUDIT_TEST_PG_URL")
    stop = None
    if not url:
        url, reason, stop = start_temporary()
        if url is None:
            unavailable(reason, ".ci/run starts a PostgreSQL server and sets SOPAUDIT_TEST_PG_URL")
    try:
        yield fresh_database(url)
    finally:
        if stop is not None:
            stop()


@pytest.fixture(scope="module")
def office_log(tmp_path_factory):
    import sopaudit as sa

    log, _ = sa.simulate(sa.load_sop(PASSPORT_SOP), cases=16, seed=5)
    path = tmp_path_factory.mktemp("pg_logs") / "office.csv"
    log.to_csv(path, index=False)
    return path


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


def test_history_in_postgres_and_a_log_read_with_a_query(pg_url, office_log, tmp_path):
    import sqlalchemy as sa

    from sopaudit.history.store import read_runs

    # The office's export as a table of the service's database (times as timestamptz).
    df = pd.read_csv(office_log)
    df["time:timestamp"] = pd.to_datetime(df["time:timestamp"], utc=True)
    engine = sa.create_engine(pg_url)
    df.rename(columns={"case:concept:name": "no_permohonan", "concept:name": "tahapan",
                       "time:timestamp": "waktu", "org:resource": "petugas"}).to_sql(
        "layanan_paspor", engine, index=False)
    engine.dispose()
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        f"defaults:\n  sop: {PASSPORT_SOP}\n  formats: csv,json\n  lang: en\naudits:\n"
        f"  - name: from_file\n    log: {office_log}\n"
        f"  - name: from_db\n    log: {pg_url}\n"
        "    query: SELECT no_permohonan, tahapan, waktu, petugas FROM layanan_paspor ORDER BY no_permohonan, waktu\n"
        "    case: no_permohonan\n    activity: tahapan\n    time: waktu\n    resource: petugas\n",
        encoding="utf-8")
    out = tmp_path / "out"
    for _ in range(2):
        code, output = run("batch", plan, "-o", out, "--workers", 1, "--history", pg_url)
        assert code == 0, output
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [a["status"] for a in doc["audits"]] == ["ok", "ok"]
    file_m, db_m = (a["metrics"] for a in doc["audits"])
    # The same events, read from the file and from the database, give the same audit.
    assert db_m["cases"] == file_m["cases"] == df["case:concept:name"].nunique()
    assert db_m["events"] == file_m["events"] == len(df)
    for key in ("case_conformance_rate", "fitness", "deviations_by_kind", "variants"):
        assert db_m[key] == file_m[key], key
    for table in ("variants.csv", "steps.csv"):
        assert (out / "from_db" / table).read_bytes() == (out / "from_file" / table).read_bytes(), table
    assert not (out / "history.sqlite").exists()  # the history went to PostgreSQL

    runs = read_runs(pg_url)
    assert len(runs) == 4 and runs["batch_id"].nunique() == 2
    assert list(runs["name"]) == ["from_file", "from_db", "from_file", "from_db"]
    assert runs["case_conformance_rate"].tolist() == [file_m["case_conformance_rate"], db_m["case_conformance_rate"]] * 2
    # A database log is never skipped by --resume: its content cannot be hashed before reading.
    code, output = run("batch", plan, "-o", out, "--workers", 1, "--history", pg_url, "--resume")
    assert code == 0, output
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [a["status"] for a in doc["audits"]] == ["skipped", "ok"]
    code, output = run("history", "--store", pg_url, "--office", "from_db")
    assert code == 0, output
    assert "from_db" in output and "from_file" not in output
    assert output.count(f"{100 * db_m['case_conformance_rate']:.1f}%") == 3
