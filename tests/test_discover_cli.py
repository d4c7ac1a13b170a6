"""`sopaudit discover`: the files it writes on the demo log (with and without an SOP), exact
counts, filters, byte-identical reruns, and clear errors for bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from click.testing import CliRunner

from sopaudit.cli import main

from conftest import DEMO_LOG, PASSPORT_SOP, make_log

MAPPING = ["--case", "no_permohonan", "--activity", "tahapan", "--time", "waktu",
           "--resource", "petugas", "--tz", "WIB"]


def _run(*args: str):
    return CliRunner().invoke(main, ["discover", *args])


@pytest.fixture(scope="module")
def with_sop(tmp_path_factory):
    out = tmp_path_factory.mktemp("discover_sop")
    res = _run("--log", str(DEMO_LOG), "-o", str(out), "--sop", str(PASSPORT_SOP), *MAPPING)
    assert res.exit_code == 0, res.output
    return out, res.output


def test_files_and_summary(with_sop) -> None:
    out, output = with_sop
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["dfg.csv", "variants.csv", "map.svg", "map.png", "models.json",
                            "differences.csv", "actual_vs_sop.svg", "sop_overlay.svg"])
    assert "log        " in output and "63 cases, 908 events, 15 variants, 18 activities" in output
    assert ("sop        SOP-IMI-PASPOR-01: flows the SOP does not allow 13 (35 times); activities "
            "outside the SOP 1; never seen: SOP steps 0, SOP flows 0") in output
    for svg in ("map.svg", "actual_vs_sop.svg", "sop_overlay.svg"):
        ET.parse(out / svg)  # well-formed
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dfg_and_variants_csv(with_sop) -> None:
    out, _ = with_sop
    d = pd.read_csv(out / "dfg.csv", keep_default_na=False)
    assert list(d.columns) == ["source", "target", "count", "cases", "median_wait_s", "p90_wait_s"]
    # the map and the tables are the log as recorded (export labels, not SOP ids)
    row = d[(d.source == "PERIKSA_BERKAS") & (d.target == "TITIP_BERKAS")].iloc[0]
    assert (row["count"], row["cases"]) == (3, 3)
    assert d[d.source == "▶"]["count"].sum() == 63 and d[d.target == "■"]["count"].sum() == 63
    v = pd.read_csv(out / "variants.csv")
    assert list(v.columns) == ["rank", "variant", "length", "count", "share", "cumulative_share",
                               "example_case"]
    assert v["count"].sum() == 63 and len(v) == 15 and v["count"].iloc[0] == 29


def test_differences_csv(with_sop) -> None:
    out, _ = with_sop
    diff = pd.read_csv(out / "differences.csv", keep_default_na=False)
    assert diff["kind"].value_counts().to_dict() == {"flow_not_in_sop": 13, "activity_not_in_sop": 1}
    bad = diff[diff.kind == "flow_not_in_sop"]
    assert bad["count"].sum() == 35
    top = bad.iloc[0]
    assert (top.source, top.target, top["count"], top.cases) == (
        "foto_sidik_jari", "verifikasi_pembayaran", 5, 5)
    assert top.example_cases == "2024PAS00042; 2024PAS00043; 2024PAS00044; 2024PAS00045; 2024PAS00046"


def test_models_json(with_sop) -> None:
    out, _ = with_sop
    m = json.loads((out / "models.json").read_text(encoding="utf-8"))
    assert m["log"]["cases"] == 63 and m["log"]["events"] == 908 and m["filters"] == {}
    quality = {name: (m[name]["method"], m[name]["fitness"], m[name]["precision"], m[name]["fitting_cases_share"])
               for name in ("inductive", "heuristics")}
    assert quality == {  # 45 and 2 of the 63 cases fit
        "inductive": ("token_based_replay", pytest.approx(0.9822778581657802), pytest.approx(0.8767019667170953),
                      pytest.approx(45 / 63)),
        "heuristics": ("token_based_replay", pytest.approx(0.9616225456613303), pytest.approx(0.9853801169590644),
                       pytest.approx(2 / 63)),
    }
    assert m["inductive"]["noise_threshold"] == 0.2
    assert m["sop"]["code"] == "SOP-IMI-PASPOR-01"
    assert m["sop"]["differences"] == {"activity_not_in_sop": 1, "step_not_in_log": 0,
                                       "flow_not_in_sop": 13, "flow_not_in_log": 0}
    # 36 of the first 56, plus the interview by the printing officer (no roles file: roles are
    # not checked); own approval (duty conflict), late adjudication and open cases do not count
    assert m["sop"]["conforming_cases"] == 37


def test_rerun_gives_the_same_bytes(with_sop, tmp_path) -> None:
    out, _ = with_sop
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path), "--sop", str(PASSPORT_SOP), *MAPPING)
    assert res.exit_code == 0, res.output
    for p in out.iterdir():
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


def test_without_sop_and_with_filters(tmp_path) -> None:
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path), *MAPPING,
               "--attribute", "jenis_layanan", "--values", "percepatan", "--noise", "0")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["dfg.csv", "variants.csv", "map.svg", "map.png", "models.json"])
    assert "filters    jenis_layanan in percepatan: 5 of 63 cases kept" in res.output
    m = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
    assert m["log"]["cases"] == 5 and m["inductive"]["noise_threshold"] == 0.0
    assert m["filters"] == {"attribute": "jenis_layanan", "values": ["percepatan"]}


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (["--from", "2024-03-08", "--to", "2024-03-11"], 20),  # first event in that period (WIB)
        (["--coverage", "0.5"], 32),  # top 2 variants: 29 + 3 cases (29/63 < 0.5 <= 32/63)
        (["--attribute", "jenis_layanan", "--values", "reguler, percepatan", "--coverage", "1"], 63),
    ],
)
def test_filters_keep_exact_cases(tmp_path, args, kept) -> None:
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path), *MAPPING, *args)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))["log"]["cases"] == kept
    assert f"{kept} of 63 cases kept" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "kemarin"], "--from 'kemarin' is not a date; write it as YYYY-MM-DD"),
        (["--from", "2024-03-10", "--to", "2024-03-01"], "--to 2024-03-01 is not after --from 2024-03-10"),
        (["--values", "reguler"], "--attribute and --values go together"),
        (["--attribute", "kantor", "--values", "x"], "--attribute 'kantor' is not a column of the log"),
        (["--attribute", "jenis_layanan", "--values", "hilang"], "no case passes the filters "
                                                                 "(jenis_layanan in hilang)"),
        (["--coverage", "1.5"], "--coverage 1.5 must be a share of the cases above 0 and at most 1"),
        (["--noise", "2"], "--noise 2.0 must be between 0 and 1"),
        (["--case", "nomor"], "the case column 'nomor' does not exist"),
    ],
)
def test_bad_input_is_one_clear_message(tmp_path, args, message) -> None:
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path / "out"), *MAPPING, *args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_mapping_file(tmp_path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("case: no_permohonan\nactivity: tahapan\ntime: waktu\nresource: petugas\n"
                       "tz: Asia/Pontianak\n", encoding="utf-8")
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path / "o"), "--mapping", str(mapping),
               "--from", "2024-03-08", "--to", "2024-03-11")
    assert res.exit_code == 0, res.output
    assert "20 of 63 cases kept" in res.output
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path / "o2"), "--mapping", str(tmp_path / "nope.yaml"))
    assert res.exit_code == 2 and "nope.yaml" in res.output


def test_missing_log_and_bad_sop(tmp_path) -> None:
    res = _run("--log", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o"))
    assert res.exit_code == 2 and "the log file does not exist" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("sop:\n  code: X\n", encoding="utf-8")
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path / "o"), "--sop", str(bad), *MAPPING)
    assert res.exit_code == 2 and str(bad) in res.output


def test_formula_like_activity_is_neutralised_in_csv(tmp_path) -> None:
    log = make_log({"1": ["=HYPERLINK(\"x\")", "b"], "2": ["a", "b"]})
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    res = _run("--log", str(path), "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    text = (tmp_path / "o" / "dfg.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


# --- models never run away ------------------------------------------------------------------------


def test_models_beyond_the_size_guard_are_declined_with_the_reason(tmp_path, monkeypatch) -> None:
    from sopaudit.discovery import models

    monkeypatch.setattr(models, "MAX_ACTIVITIES", 5)  # the demo log has 18 activities
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path), *MAPPING)
    assert res.exit_code == 0, res.output
    reason = "not mined: the log has 18 activities (limit 5); pm4py's miners may run for hours on such a log"
    assert f"inductive  {reason} (--force-models to mine anyway; --no-models to skip)" in res.output
    m = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
    assert m["inductive"] == {"noise_threshold": 0.2, "skipped": reason}
    assert m["heuristics"]["skipped"] == reason
    forced = _run("--log", str(DEMO_LOG), "-o", str(tmp_path / "forced"), *MAPPING, "--force-models")
    assert forced.exit_code == 0, forced.output
    m = json.loads((tmp_path / "forced" / "models.json").read_text(encoding="utf-8"))
    assert 0 < m["inductive"]["fitness"] <= 1 and "skipped" not in m["heuristics"]


def test_models_over_their_time_budget_are_stopped(tmp_path) -> None:
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path), *MAPPING, "--model-budget", "0.001")
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
    for name in ("inductive", "heuristics"):
        assert m[name]["skipped"] == "stopped after 0 s, its share of the time budget of 0.001 s for the models"
        assert "fitness" not in m[name]
    assert "(--model-budget SECONDS to allow more time; --no-models to skip)" in res.output


def test_no_models(tmp_path) -> None:
    res = _run("--log", str(DEMO_LOG), "-o", str(tmp_path), *MAPPING, "--no-models")
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
    assert set(m) == {"log", "filters"} and "inductive" not in res.output


def test_cli_limits_are_the_library_limits() -> None:
    from sopaudit.cli import discover as cli
    from sopaudit.discovery import models

    assert (cli.MODELS, cli.DEFAULT_BUDGET_S, cli.MAX_ACTIVITIES, cli.MAX_VARIANTS) == (
        models.MODELS, models.DEFAULT_BUDGET_S, models.MAX_ACTIVITIES, models.MAX_VARIANTS)


def test_a_budget_stops_a_call_that_runs_away() -> None:
    import time

    from sopaudit.discovery.models import run_with_budget

    started = time.monotonic()
    assert run_with_budget(time.sleep, (30,), 0.5) == ("timeout", None)
    assert time.monotonic() - started < 10
    assert run_with_budget(divmod, (7, 2), 5) == ("ok", (3, 1))
    assert run_with_budget(divmod, (7, 0), 5) == ("error", "ZeroDivisionError: integer division or modulo by zero")
