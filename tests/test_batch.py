"""sopaudit batch: a plan of several audits on the local pool and on Dask, the index, --resume,
--fail-under, and the history read back (SQLite here, PostgreSQL in test_batch_postgres.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sopaudit.cli import main

from conftest import PASSPORT_SOP, unavailable

CASE = "case:concept:name"


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """Two small simulated office logs and one broken export."""
    import sopaudit as sa

    root = tmp_path_factory.mktemp("batch_logs")
    sop = sa.load_sop(PASSPORT_SOP)
    for name, cases, seed in (("office_a", 18, 1), ("office_b", 22, 2)):
        log, _ = sa.simulate(sop, cases=cases, seed=seed)
        log.to_csv(root / f"{name}.csv", index=False)
    (root / "broken.csv").write_text("nomor,langkah\n1,2\n", encoding="utf-8")
    return root


def write_plan(folder: Path, logs: Path, with_broken: bool = True, lang: str = "en", formats: str = "") -> Path:
    # The last audit is office A's log again, audited as 3 partitions of its cases.
    broken = ("  - name: broken\n    log: broken.csv\n"
              "  - name: office_a_parts\n    log: office_a.csv\n    partitions: 3\n") if with_broken else ""
    text = (f"title: Semester audit\ndefaults:\n  sop: {PASSPORT_SOP}\n  lang: {lang}\n{formats}"
            "audits:\n"
            "  - name: office_a\n    log: office_a.csv\n    office: A\n    formats: html,csv,json\n"
            "  - name: office_b\n    log: office_b.csv\n    office: B\n"
            "    filter: {from: 2024-07-01, attribute: kantor, values: [Kantor Contoh]}\n"
            + broken)
    for name in ("office_a.csv", "office_b.csv", "broken.csv"):
        if not (folder / name).exists():
            shutil.copy(logs / name, folder / name)
    plan = folder / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    return plan


def run(*args) -> tuple[int, str]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


def csv_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/*.csv"))}


def batch_json(out: Path) -> dict:
    return json.loads((out / "batch.json").read_text(encoding="utf-8"))


def first_event_cases(path: Path, since: str) -> int:
    df = pd.read_csv(path)
    first = pd.to_datetime(df.groupby(CASE)["time:timestamp"].min(), utc=True)
    return int((first >= pd.Timestamp(since, tz="Asia/Jakarta")).sum())


def test_batch_on_pool_and_dask_gives_identical_reports(logs, tmp_path):
    from distributed import LocalCluster

    plan = write_plan(tmp_path, logs, formats="  formats: csv,json\n")
    pool_out, dask_out = tmp_path / "pool", tmp_path / "dask"
    code, output = run("batch", plan, "-o", pool_out, "--workers", 2)
    assert code == 1, output  # one audit failed
    doc = batch_json(pool_out)
    assert [(a["name"], a["status"]) for a in doc["audits"]] == [
        ("office_a", "ok"), ("office_b", "ok"), ("broken", "failed"), ("office_a_parts", "ok")]
    assert doc["counts"] == {"ok": 3, "skipped": 0, "failed": 1}
    failed = doc["audits"][2]
    assert failed["error"].startswith(f"{plan}:15:5: audit 'broken': ")
    assert "broken.csv" in failed["error"] and "nomor, langkah" in failed["error"]
    assert not (pool_out / "broken").exists()  # no half-written report folder
    assert f"failed     {failed['error'].splitlines()[0]}" in output
    # The metrics in batch.json are those of each audit's summary.json; the cases those of the input.
    for audit in doc["audits"][:2]:
        summary = json.loads((pool_out / audit["name"] / "summary.json").read_text(encoding="utf-8"))
        assert audit["metrics"]["case_conformance_rate"] == summary["case_conformance_rate"]
        assert audit["metrics"]["deviations_by_kind"] == summary["deviations_by_kind"]
    a_cases = pd.read_csv(tmp_path / "office_a.csv")[CASE].nunique()
    assert doc["audits"][0]["metrics"]["cases"] == a_cases == 18
    # The filter kept the cases whose first event is on or after 2024-07-01.
    b_cases = first_event_cases(tmp_path / "office_b.csv", "2024-07-01")
    assert 0 < b_cases < 22
    assert doc["audits"][1]["metrics"]["cases"] == b_cases
    assert len(pd.read_csv(pool_out / "office_b" / "cases.csv")) == b_cases

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        code, output = run("batch", plan, "-o", dask_out, "--scheduler", cluster.scheduler_address)
    assert code == 1, output
    assert [(a["name"], a["status"]) for a in batch_json(dask_out)["audits"]] == [
        ("office_a", "ok"), ("office_b", "ok"), ("broken", "failed"), ("office_a_parts", "ok")]
    pool_csv, dask_csv = csv_files(pool_out), csv_files(dask_out)
    assert len(pool_csv) >= 15 and pool_csv.keys() == dask_csv.keys()
    for name in pool_csv:
        assert pool_csv[name] == dask_csv[name], name
    # Audited in 3 partitions of its cases and merged, office A's log gives the same tables.
    parts = doc["audits"][3]
    assert sorted(p["partition"] for p in parts["partitions"]) == [0, 1, 2]
    assert sum(p["events"] for p in parts["partitions"]) == doc["audits"][0]["metrics"]["events"]
    assert parts["split"]["events"] == doc["audits"][0]["metrics"]["events"]  # the log was read once
    whole = {k.split("/")[1]: v for k, v in pool_csv.items() if k.startswith("office_a/")}
    merged = {k.split("/")[1]: v for k, v in pool_csv.items() if k.startswith("office_a_parts/")}
    assert whole == merged and len(whole) == 5
    assert parts["metrics"] == doc["audits"][0]["metrics"]

    # The index compares the audits and links to each report.
    page = (pool_out / "index.html").read_text(encoding="utf-8")
    assert 'href="office_a/report.html"' in page and 'href="broken/report.html"' not in page
    rate = doc["audits"][0]["metrics"]["case_conformance_rate"]
    assert f"{100 * rate:.1f}%" in page
    from openpyxl import load_workbook

    ws = load_workbook(pool_out / "index.xlsx").active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2], r[5]) for r in rows] == [("office_a", "completed", 18), ("office_b", "completed", b_cases),
                                                  ("broken", "failed", None), ("office_a_parts", "completed", 18)]
    assert rows[0][7] == pytest.approx(rate)


def test_resume_skips_unchanged_audits_and_history_shows_the_trend(logs, tmp_path):
    import sopaudit as sa
    from sopaudit.history.store import read_runs

    plan = write_plan(tmp_path, logs, with_broken=False, formats="  formats: [csv, json]\n")
    out = tmp_path / "out"
    code, output = run("batch", plan, "-o", out, "--workers", 1)
    assert code == 0, output
    summary_a = out / "office_a" / "summary.json"
    stamp = summary_a.stat().st_mtime_ns

    code, output = run("batch", plan, "-o", out, "--resume", "--workers", 1)
    assert code == 0, output
    assert [a["status"] for a in batch_json(out)["audits"]] == ["skipped", "skipped"]
    assert summary_a.stat().st_mtime_ns == stamp

    # A new export for office B (other cases): only B runs again.
    log, _ = sa.simulate(sa.load_sop(PASSPORT_SOP), cases=15, seed=9)
    log.to_csv(tmp_path / "office_b.csv", index=False)
    code, output = run("batch", plan, "-o", out, "--resume", "--workers", 1)
    assert code == 0, output
    doc = batch_json(out)
    assert [a["status"] for a in doc["audits"]] == ["skipped", "ok"]
    assert summary_a.stat().st_mtime_ns == stamp
    assert doc["audits"][1]["metrics"]["cases"] == first_event_cases(tmp_path / "office_b.csv", "2024-07-01")
    # A changed parameter (the report language) runs the audit again; so does an incomplete report.
    (out / "office_b" / "summary.json").unlink()
    write_plan(tmp_path, logs, with_broken=False, lang="id", formats="  formats: [csv, json]\n")
    code, output = run("batch", plan, "-o", out, "--resume", "--workers", 1)
    assert [a["status"] for a in batch_json(out)["audits"]] == ["ok", "ok"]

    # --fail-under: any conformance rate under RATE is a failure (exit 1).
    rates = [a["metrics"]["case_conformance_rate"] for a in batch_json(out)["audits"]]
    code, output = run("batch", plan, "-o", out, "--resume", "--fail-under", min(rates) + 0.001)
    assert code == 1 and "under      office_" in output
    code, output = run("batch", plan, "-o", out, "--resume", "--fail-under", min(rates))
    assert code == 0, output
    code, output = run("batch", plan, "-o", out, "--fail-under", 80)
    assert code == 2 and "--fail-under 80" in output

    # Every audit of every batch is in the history, oldest first.
    runs = read_runs(out / "history.sqlite")
    assert len(runs) == 12 and runs["batch_id"].nunique() == 6
    last_b = runs[runs["name"] == "office_b"].iloc[-1]
    assert last_b["case_conformance_rate"] == batch_json(out)["audits"][1]["metrics"]["case_conformance_rate"]
    assert last_b["sop_code"] and len(last_b["log_sha256"]) == 64
    chart = tmp_path / "trend.png"
    code, output = run("history", "--store", out, "--office", "B", "--chart", chart)
    assert code == 0, output
    assert "office_b" in output and "office_a" not in output
    assert f"{100 * last_b['case_conformance_rate']:.1f}%" in output.splitlines()[-2]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "index.html").read_text(encoding="utf-8")  # the trend chart in the index


def test_bad_plan_lists_every_problem_with_its_place(tmp_path):
    (tmp_path / "plan.yaml").write_text(
        "defaults:\n  sopp: x.yaml\naudits:\n  - name: a\n    log: a.csv\n    sop: s.yaml\n"
        "  - name: A\n    log: b.csv\n    sop: s.yaml\n    filter: {from: 15-01-2024}\n"
        "  - name: ../up\n    sop: s.yaml\n    lang: fr\n", encoding="utf-8")
    code, output = run("batch", tmp_path / "plan.yaml", "-o", tmp_path / "out")
    assert code == 2
    plan = tmp_path / "plan.yaml"
    for expected in (f"{plan}:2:3: unknown key 'sopp' in defaults (did you mean 'sop'?)",
                     f"{plan}:7:11: the audit name 'A' is used twice (first at line 4)",
                     f"{plan}:10:20: filter 'from:' must be a date written YYYY-MM-DD",
                     f"{plan}:11:11: the audit name '../up' cannot be a folder name",
                     f"{plan}:11:5: audit '../up' has no 'log:'",
                     f"{plan}:13:11: unknown report language 'fr'"):
        assert expected in output, output
    assert not (tmp_path / "out").exists()
    (tmp_path / "more.yaml").write_text(
        "defaults: {sop: s.yaml}\naudits:\n  - name: db\n    log: postgresql+psycopg://u@h/d\n"
        "  - name: big\n    log: big.csv\n    partitions: 4\n    precision: true\n", encoding="utf-8")
    code, output = run("batch", tmp_path / "more.yaml", "-o", tmp_path / "out")
    more = tmp_path / "more.yaml"
    assert code == 2
    assert f"{more}:4:10: the log 'postgresql+psycopg://u@h/d' is a database URL: add 'query:'" in output
    assert f"{more}:8:16: 'precision: true' needs the whole log in one audit" in output
    (tmp_path / "bad.yaml").write_text("audits: [a\n", encoding="utf-8")
    code, output = run("batch", tmp_path / "bad.yaml", "-o", tmp_path / "out")
    assert code == 2 and f"{tmp_path / 'bad.yaml'}:2:1: YAML syntax" in output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_batch_on_dask_scheduler_and_worker_processes(logs, tmp_path):
    """`dask scheduler` and `dask worker` as separate processes, the batch as a third one."""
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        unavailable(f"the dask command line is not installed beside {sys.executable}",
                    "the package's dependencies install dask[distributed]")
    plan = write_plan(tmp_path, logs, formats="  formats: csv,json\n")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ)
    procs = []
    try:
        procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                       "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        procs.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                                       "--nthreads", "2", "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        from distributed import Client

        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(1, timeout=max(1, deadline - time.time()))
                break
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        res = subprocess.run([Path(sys.executable).with_name("sopaudit"), "batch", plan, "-o", tmp_path / "out",
                              "--scheduler", address], capture_output=True, text=True, timeout=240)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    assert res.returncode == 1, res.stdout + res.stderr
    doc = batch_json(tmp_path / "out")
    assert doc["executor"] == f"dask {address}"
    assert [(a["name"], a["status"]) for a in doc["audits"]] == [
        ("office_a", "ok"), ("office_b", "ok"), ("broken", "failed"), ("office_a_parts", "ok")]
    # The one worker process ran every audit.
    assert len({a["worker"]["pid"] for a in doc["audits"]}) == 1
    csv = csv_files(tmp_path / "out")
    whole = {k.split("/")[1]: v for k, v in csv.items() if k.startswith("office_a/")}
    assert whole == {k.split("/")[1]: v for k, v in csv.items() if k.startswith("office_a_parts/")}


def test_history_that_cannot_be_written_fails_the_batch_but_keeps_the_reports(logs, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"defaults: {{sop: {PASSPORT_SOP}, formats: json}}\naudits:\n"
                    f"  - name: a\n    log: {logs / 'office_a.csv'}\n", encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'no such folder' / 'history.sqlite'}"
    code, output = run("batch", plan, "-o", tmp_path / "out", "--workers", 1, "--history", store)
    assert code == 1
    assert "error: cannot write the audit history to sqlite:///" in output
    assert [a["status"] for a in batch_json(tmp_path / "out")["audits"]] == ["ok"]
    assert (tmp_path / "out" / "a" / "summary.json").is_file() and (tmp_path / "out" / "index.html").is_file()


def test_partitions_merge_into_the_whole_logs_audit_with_open_cases(tmp_path, mini_sop):
    """Unfinished cases at different times: each partition must judge them against the whole
    log's end, not its own, for the merge to equal the audit of the whole log."""
    import sopaudit as sa
    from sopaudit.batch.partition import (
        audit_partition,
        load_parts,
        merge_results,
        partition_numbers,
        split_log,
    )
    from sopaudit.batch.plan import AuditJob
    from sopaudit.report import write_report

    from conftest import FIXTURES, make_log

    full = ["a", "c", "d", "e", "f", "g"]
    parts = []
    for i in range(24):  # a case every 11 days; every third one stops early
        start = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=11 * i)).strftime("%Y-%m-%d 08:00")
        parts.append(make_log({f"K{i:03d}": full if i % 3 else full[: 2 + i % 4]}, start=start, step_minutes=60))
    log = pd.concat(parts, ignore_index=True)
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    job = AuditJob(name="x", log=str(path), sop=str(FIXTURES / "mini_sop.yaml"), where="plan.yaml:1:1",
                   partitions=3, open_days=80)
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    assert split_log(job, str(parts_dir)) == len(log)  # the log read once, its events handed to the parts
    assert sum(audit_partition(job, p, str(parts_dir)) for p in range(3)) == len(log)
    assert sorted(f.name for f in parts_dir.iterdir()) == ["part-0000.pickle", "part-0001.pickle",
                                                           "part-0002.pickle", "whole.pickle"]
    results, ranks, info, calendar = load_parts(parts_dir, 3)
    merged = merge_results(results, ranks, calendar)
    read = sa.read_log(path)
    whole = sa.audit(read, mini_sop, processes=1, open_days=80)
    assert whole.metrics["incomplete_cases"] >= 2
    for name, result in (("whole", whole), ("merged", merged)):
        write_report(result, tmp_path / name, formats="csv,json")
    for table in ("cases", "deviations", "steps", "variants"):
        assert (tmp_path / "whole" / f"{table}.csv").read_bytes() == (tmp_path / "merged" / f"{table}.csv").read_bytes()
    assert merged.metrics == whole.metrics
    # Without the whole log's end, some partition would judge its open cases differently.
    number = partition_numbers(read["case:concept:name"], 3)
    own_end = [sa.audit(read[number == p], mini_sop, processes=1, open_days=80).metrics["incomplete_cases"]
               for p in range(3)]
    assert sum(own_end) != whole.metrics["incomplete_cases"]


def test_a_partitioned_audit_of_an_unreadable_log_fails_once_and_leaves_no_parts(logs, tmp_path):
    shutil.copy(logs / "broken.csv", tmp_path / "broken.csv")
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"defaults:\n  sop: {PASSPORT_SOP}\n  formats: csv\naudits:\n"
                    "  - name: whole\n    log: broken.csv\n"
                    "  - name: parts\n    log: broken.csv\n    partitions: 4\n", encoding="utf-8")
    code, output = run("batch", plan, "-o", tmp_path / "out", "--workers", 1)
    assert code == 1, output
    whole, parts = batch_json(tmp_path / "out")["audits"]
    assert whole["status"] == parts["status"] == "failed"
    # The split task read the log once and failed with the message a single audit gives; no part ran.
    assert parts["error"] == whole["error"].replace(":5:5: audit 'whole'", ":7:5: audit 'parts'")
    assert "broken.csv" in parts["error"] and parts["partitions"] == [] and "split" not in parts
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if "parts" in p.name) == []


def test_the_bundled_plan_audits_both_ketapang_years(tmp_path):
    """The plan the README's tour runs: the year before the reform and the year after."""
    from conftest import ROOT

    code, output = run("batch", ROOT / "event_logs" / "batch_plan.yaml", "-o", tmp_path / "out", "--workers", 1,
                       "--fail-under", 0.8)
    assert code == 1, output  # 2023 is under 80 %
    assert "ketapang-2023: conformance 63.3% < --fail-under 80.0%" in output
    audits = batch_json(tmp_path / "out")["audits"]
    assert [(a["name"], a["office"], a["status"], a["metrics"]["finished_cases"], a["metrics"]["conforming_cases"])
            for a in audits] == [("ketapang-2023", "Ketapang", "ok", 14804, 9377),
                                 ("ketapang-2024", "Ketapang", "ok", 14845, 12832)]
