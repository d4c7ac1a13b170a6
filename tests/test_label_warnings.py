"""Label mismatches are warned about, with the alias to add (issue 14, item 4): in the CLI,
the report and summary.json."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.conform.labels import label_warnings
from sopaudit.report.html import render_html

from conftest import DEMO_LOG, FIXTURES, PASSPORT_SOP


@pytest.fixture(scope="module")
def log():
    return sa.read_log(DEMO_LOG, case="no_permohonan", activity="tahapan", time="waktu", resource="petugas",
                       tz="Asia/Pontianak")


def _typo(sop):
    steps = tuple(dataclasses.replace(s, aliases=("WAWANCRA",)) if s.id == "wawancara" else s for s in sop.steps)
    return dataclasses.replace(sop, steps=steps)


def test_a_one_letter_alias_typo_is_named_with_the_alias_to_add(log):
    sop = _typo(sa.load_sop(PASSPORT_SOP))
    w = label_warnings(log, sop)
    assert [(x["code"], x["step"], x["label"], x["events"]) for x in w] == [
        ("near_label", "wawancara", "WAWANCARA", 62)]
    assert w[0]["similarity"] == 1.0  # the step's name, Wawancara, differs from the label only in case
    assert "add it to the step's aliases (aliases: [WAWANCARA])" in w[0]["message"]
    r = sa.audit(log, sop, processes=1)
    assert r.warnings == w
    html = render_html(r, "en")
    assert 'id="label-warnings"' in html and "aliases: [WAWANCARA]" in html
    assert r.summary()["warnings"][0]["label"] == "WAWANCARA"


def test_the_right_sop_gives_no_warning(log):
    assert label_warnings(log, sa.load_sop(PASSPORT_SOP)) == []


def test_an_unrelated_sop_is_warned_about(log, tmp_path):
    w = label_warnings(log, sa.load_sop(FIXTURES / "mini_sop.yaml"))
    assert [x["code"] for x in w] == ["few_labels"]
    assert (w[0]["labels_matched"], w[0]["labels"], w[0]["events"]) == (0, 18, 0)
    res = CliRunner().invoke(main, ["audit", "--log", str(DEMO_LOG), "--sop", str(FIXTURES / "mini_sop.yaml"),
                                    "--out", str(tmp_path), "--case", "no_permohonan", "--activity", "tahapan",
                                    "--time", "waktu", "--formats", "json"])
    assert res.exit_code == 0, res.output
    assert "WARNING    only 0 of the log's 18 labels (0% of its events) match an SOP step" in res.output
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert [x["code"] for x in s["warnings"]] == ["few_labels"]
