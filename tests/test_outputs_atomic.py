"""Outputs are all or nothing, and the output folder is checked before any work (issue 13,
defects 3 and 4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sopaudit.cli import main
from sopaudit.core.errors import OutputPathError
from sopaudit.core.outdir import PARTIAL, check_out_dir, check_out_file, staged_files, staged_folder

from conftest import FIXTURES, make_log

MINI = FIXTURES / "mini_sop.yaml"


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if PARTIAL in p.name]


@pytest.fixture(scope="module")
def results(mini_sop):
    import sopaudit as sa

    clean = sa.audit(make_log({"1": ["a", "c", "d", "e", "f", "g"]}), mini_sop)
    rejected = make_log({"1": ["a", "c", "d", "e", "f", "g"]})
    dirty = sa.audit(rejected, mini_sop)
    dirty.rejected = [(7, "missing or unreadable time in column 'waktu'")]
    return clean, dirty


def test_failed_report_leaves_no_file_and_keeps_the_earlier_one(results, tmp_path, monkeypatch):
    clean, _ = results
    out = tmp_path / "report"
    clean.write(out, lang="en")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("killed while writing the workbook")

    monkeypatch.setattr("sopaudit.report.xlsx.write_xlsx", broken)  # imported on use
    with pytest.raises(RuntimeError, match="killed while writing the workbook"):  # from the writer's thread
        clean.write(out, lang="id")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the earlier run, untouched
    with pytest.raises(RuntimeError):
        clean.write(tmp_path / "fresh", lang="id")
    assert not (tmp_path / "fresh").exists()
    assert _leftovers(tmp_path) == []


def test_stale_files_of_an_earlier_run_are_removed(results, tmp_path):
    clean, dirty = results
    dirty.write(tmp_path, lang="en")
    assert (tmp_path / "rejected_rows.csv").exists()
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    clean.write(tmp_path, formats="json", lang="en")
    # only this run's files (and the user's own) remain: no rejected_rows.csv beside a summary of 0
    assert {p.name for p in tmp_path.iterdir()} == {"summary.json", "quality.json", "notes.txt"}
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["rows_rejected"] == 0


def test_a_symlink_in_the_folder_is_replaced_not_followed(results, tmp_path):
    clean, _ = results
    outside = tmp_path / "outside.html"
    outside.write_text("precious", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").symlink_to(outside)
    (out / "rejected_rows.csv").symlink_to(outside)
    clean.write(out, lang="en")
    assert outside.read_text(encoding="utf-8") == "precious"
    assert not (out / "report.html").is_symlink() and "<html" in (out / "report.html").read_text(encoding="utf-8")
    assert not os.path.lexists(out / "rejected_rows.csv")


def test_summary_is_moved_last(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.json").write_text("old", encoding="utf-8")
    order = []
    real_replace = os.replace

    def spy(src, dst):
        order.append((Path(dst).name, os.path.exists(Path(dst).parent / "summary.json")))
        real_replace(src, dst)

    os.replace = spy
    try:
        with staged_folder(out, ["a.csv", "summary.json"], mark="summary.json") as tmp:
            (tmp / "summary.json").write_text("new", encoding="utf-8")
            (tmp / "a.csv").write_text("x", encoding="utf-8")
    finally:
        os.replace = real_replace
    # no summary in the folder while the other files are moved; it comes last
    assert order == [("a.csv", False), ("summary.json", False)]
    assert (out / "summary.json").read_text(encoding="utf-8") == "new"


def test_staged_files_fail_together(tmp_path):
    a, b = tmp_path / "log.csv", tmp_path / "truth.csv"
    with pytest.raises(ValueError), staged_files(a, b) as (ta, tb):
        ta.write_text("log", encoding="utf-8")
        raise ValueError("killed")
    assert list(tmp_path.iterdir()) == []
    with staged_files(a, None, b) as (ta, none, tb):
        assert none is None and ta.name.endswith("-log.csv")  # the suffix chooses the format
        ta.write_text("log", encoding="utf-8")
        tb.write_text("truth", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "truth.csv"]


def test_bad_folders_are_refused(tmp_path):
    afile = tmp_path / "f.txt"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_out_dir(afile)
    with pytest.raises(OutputPathError, match="is a file, so nothing can be written under it"):
        check_out_dir(afile / "sub")
    with pytest.raises(OutputPathError, match="system folder"):
        check_out_dir("/proc/self/x")
    with pytest.raises(OutputPathError, match="holds the input file"):
        check_out_dir(tmp_path, [afile])
    with pytest.raises(OutputPathError, match="is the input file"):
        check_out_file(afile, [afile])
    with pytest.raises(OutputPathError, match="is a folder"):
        check_out_file(tmp_path)
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(OutputPathError, match="no permission"):
            check_out_dir(locked / "out")


def _audit(*out_args):
    from conftest import DEMO_LOG, PASSPORT_SOP

    return CliRunner().invoke(main, ["audit", "--log", str(DEMO_LOG), "--sop", str(PASSPORT_SOP),
                                     "--case", "no_permohonan", "--activity", "tahapan", "--time", "waktu",
                                     *out_args])


@pytest.mark.parametrize("kind", ["file", "under_file", "proc", "input_folder"])
def test_cli_audit_refuses_a_bad_out_before_the_audit(tmp_path, monkeypatch, kind):
    from conftest import DEMO_LOG

    def no_audit(*args, **kwargs):
        raise AssertionError("the audit ran")

    # the CLI imports audit_files from here when the command runs: with no early check of --out
    # the audit would start (and only write_report would refuse the folder, after the work)
    monkeypatch.setattr("sopaudit.auditing.files.audit_files", no_audit)
    afile = tmp_path / "f.txt"
    afile.write_text("x", encoding="utf-8")
    out = {"file": afile, "under_file": afile / "o", "proc": Path("/proc/sopaudit"),
           "input_folder": DEMO_LOG.parent}[kind]
    res = _audit("--out", str(out))
    assert res.exit_code == 2, res.output
    assert "error: --out" in res.output and "Traceback" not in res.output


def test_cli_ingest_sop_discover_simulate_refuse_bad_outputs(tmp_path):
    from conftest import DEMO_LOG

    afile = tmp_path / "f.txt"
    afile.write_text("x", encoding="utf-8")
    sop = tmp_path / "sop.yaml"  # a copy: before the fix, export overwrote its input
    sop.write_bytes(MINI.read_bytes())
    runs = {
        "ingest": ["ingest", str(DEMO_LOG), "-o", str(afile / "log.parquet")],
        "export": ["sop", "export", str(sop), "--to", "pnml", "-o", str(sop)],
        "discover": ["discover", "--log", str(DEMO_LOG), "-o", str(DEMO_LOG.parent)],
        "simulate": ["simulate", "--sop", str(MINI), "--seed", "1", "-o", str(afile / "log.csv")],
    }
    for name, args in runs.items():
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, (name, res.output)
        assert "error: " in res.output and "Traceback" not in res.output, name
    assert sop.read_bytes() == MINI.read_bytes()


def test_cli_simulate_failure_leaves_no_log(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sopaudit.simulation.write_truth", broken)
    res = CliRunner().invoke(main, ["simulate", "--sop", str(MINI), "--seed", "1", "--cases", "5",
                                    "-o", str(tmp_path / "log.csv"), "--truth", str(tmp_path / "truth.csv")])
    assert res.exit_code != 0
    assert list(tmp_path.iterdir()) == []
