"""Still open or stopped: decided from the waits in the data (conform/open_cases.py), the same
decision in the audit and in `sopaudit discover`'s differences table."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.conform.open_cases import did_every_step
from sopaudit.discovery.flows import compare
from sopaudit.sop.model import Duration, TimeStandard

from conftest import FIXTURES

T0 = pd.Timestamp("2024-06-03 08:00", tz="Asia/Jakarta")  # a two-week extract: 3 to 17 June


def _case(rows, case, acts, start, gaps):
    t = start
    for i, a in enumerate(acts):
        rows.append({"case:concept:name": case, "concept:name": a, "time:timestamp": t, "org:resource": "x"})
        if i < len(gaps):
            t = t + gaps[i]
    return rows


def two_week_log(recent: int = 3, swapped_recent: bool = True) -> pd.DataFrame:
    """30 complete cases (the handover one day after the decision), 10 that stop before the
    handover at least 3 days before the log ends, `recent` that stop 2 hours before its end,
    and (optionally) one recent case whose last two steps are swapped."""
    hour, day = pd.Timedelta(hours=1), pd.Timedelta(days=1)
    rows: list[dict] = []
    for i in range(30):
        _case(rows, f"done{i:02d}", "abcd", T0 + pd.Timedelta(hours=8 * i), [hour, hour, day])
    for i in range(10):  # stopped: last event on day 1..10, the log ends on day 14
        _case(rows, f"stop{i:02d}", "abc", T0 + pd.Timedelta(days=i), [hour, hour])
    end = T0 + pd.Timedelta(days=14)
    for i in range(recent):
        _case(rows, f"new{i}", "abc", end - pd.Timedelta(hours=4), [hour, hour])
    if swapped_recent:
        _case(rows, "swap", "abdc", end - pd.Timedelta(hours=5), [hour, hour, hour])
    rows.append({"case:concept:name": "last", "concept:name": "a", "time:timestamp": end,
                 "org:resource": "x"})
    # 'last' has done only its first step at the log's last moment: open
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def line_sop():
    return sa.load_sop(FIXTURES / "line_sop.yaml")


def _kinds(result, prefix):
    dev = result.deviations[result.deviations["case_id"].str.startswith(prefix)]
    return dev.groupby("kind").size().to_dict()


def test_a_short_extract_reports_skipped_final_steps_not_incomplete(line_sop):
    r = sa.audit(two_week_log(), line_sop, processes=1)
    status = r.cases.set_index("case_id")["status"]
    # the 10 cases that stopped days ago skipped the handover
    assert _kinds(r, "stop") == {"skipped": 10}
    assert set(r.deviations.loc[r.deviations["case_id"].str.startswith("stop"), "step"]) == {"d"}
    # the 3 recent ones and the one that only registered are still under way
    assert _kinds(r, "new") == {"incomplete": 3}
    assert sorted(status[status == "incomplete"].index) == ["last", "new0", "new1", "new2"]
    # a case whose last two steps are swapped did every step: out of order, never incomplete
    assert _kinds(r, "swap") == {"out_of_order": 1}
    m = r.metrics
    assert (m["cases"], m["finished_cases"], m["incomplete_cases"], m["conforming_cases"]) == (45, 41, 4, 30)
    assert m["case_conformance_rate"] == 30 / 41
    method = r.provenance["parameters"]["open_cases"]
    assert method["rule"] == "data"
    # 'last' waits for b (30+14 observed waits of 1 hour): open; the recent three wait for d
    # (95th percentile of its observed waits: 1 day), two hours is within it
    # the 10 stopped cases waited longer than any step's limit: overdue
    assert method["cases_by_rule"] == {"finished": 30, "all_steps_done": 1, "standard": 0, "observed": 4,
                                       "observed_log": 0, "open_days": 0, "overdue": 10}
    d = next(s for s in method["steps"] if s["step"] == "d")
    # 30 waits of a day, and the swapped case's hour before d
    assert (d["waits_observed"], d["limit_days"], d["limit_rule"]) == (31, 1.0, "observed")


def test_the_explicit_open_days_override_keeps_the_old_rule(line_sop):
    r = sa.audit(two_week_log(), line_sop, processes=1, open_days=14)
    # every unfinished case is within 14 days of the log's end: all open (the swapped one did every step)
    assert r.metrics["incomplete_cases"] == 14
    assert r.provenance["parameters"]["open_cases"]["cases_by_rule"]["open_days"] == 14
    r = sa.audit(two_week_log(), line_sop, processes=1, open_days=0.5)
    assert r.metrics["incomplete_cases"] == 4


def test_a_stated_wait_of_the_sop_keeps_a_case_open(line_sop):
    # The SOP allows 5 days before the handover: the cases that stopped on days 10..13 are
    # within it (counted in calendar days, as stated), those before are not.
    steps = tuple(dataclasses.replace(s, time=TimeStandard(wait=Duration(5, "days"))) if s.id == "d" else s
                  for s in line_sop.steps)
    sop = dataclasses.replace(line_sop, steps=steps)
    r = sa.audit(two_week_log(), sop, processes=1)
    rules = r.provenance["parameters"]["open_cases"]["cases_by_rule"]
    # "days" count calendar dates: stop09 stopped on 12 June, 5 dates before the log ends (17 June);
    # stop08 on 11 June, 6
    assert _kinds(r, "stop") == {"skipped": 9, "incomplete": 1}
    assert rules["standard"] == 4 and rules["observed"] == 1  # 3 recent + stop09; 'last' waits for b


def test_the_steps_table_counts_open_cases_only_for_what_they_did(line_sop):
    r = sa.audit(two_week_log(swapped_recent=False), line_sop, processes=1)
    steps = r.steps.set_index("step")
    # d: the 30 complete cases did it; the 10 stopped cases were required to and skipped it; the
    # 3 recent cases wait for it and are not counted as required
    assert steps.loc["d", ["cases_required", "cases_in_order", "cases_skipped", "cases_waiting"]].tolist() == \
        [40, 30, 10, 3]
    assert steps.loc["b", ["cases_required", "cases_in_order", "cases_waiting"]].tolist() == [43, 43, 1]


def test_did_every_step():
    r_sop = sa.load_sop(FIXTURES / "line_sop.yaml")
    from sopaudit.conform.align import align_variants
    from sopaudit.sop.compile import compile_sop

    net = compile_sop(r_sop)
    al = align_variants([("a", "b", "d", "c"), ("a", "b", "c"), ("a", "b", "c", "d", "x")], net)
    assert did_every_step(al[("a", "b", "d", "c")]) and did_every_step(al[("a", "b", "c", "d", "x")])
    assert not did_every_step(al[("a", "b", "c")])


def test_discover_does_not_count_an_open_case_end_as_a_flow_the_sop_forbids(line_sop):
    log = two_week_log(swapped_recent=False)
    r = sa.audit(log, line_sop, processes=1)
    open_ids = set(r.cases.loc[r.cases["status"] == "incomplete", "case_id"])
    diff = compare(log, line_sop, open_cases=open_ids)
    bad = diff[diff["kind"] == "flow_not_in_sop"].set_index(["source", "target"])
    # c -> end: only the 10 stopped cases (the 3 open ones are still under way); a -> end: none
    assert bad.loc[("c", "■"), ["count", "cases"]].tolist() == [10, 10]
    assert ("a", "■") not in bad.index
    everything = compare(log, line_sop)
    assert everything.set_index(["source", "target"]).loc[("c", "■"), "count"] == 13


def test_the_map_leaves_out_the_ends_of_open_cases(line_sop):
    # the actual-vs-SOP map's legend counts the flows the SOP forbids as compare() lists them:
    # an open case's last step -> end is not a flow yet
    from sopaudit.discovery.flows import transitions
    from sopaudit.discovery.overlay import draw_actual_vs_sop

    log = two_week_log(swapped_recent=False)
    r = sa.audit(log, line_sop, processes=1)
    open_ids = set(r.cases.loc[r.cases["status"] == "incomplete", "case_id"])
    legends = {}
    for given in (open_ids, set()):
        diff = compare(log, line_sop, open_cases=given)
        bad = diff[diff["kind"] == "flow_not_in_sop"]
        tr = transitions(log)
        pairs = list(zip(bad["source"], bad["target"], strict=True))
        took = pd.MultiIndex.from_frame(tr[["source", "target"]]).isin(pairs)
        took &= ~(tr["case"].isin(given) & (tr["target"] == "■")).to_numpy()
        legends[len(given)] = (f"Flows the SOP does not allow: {len(bad)} flows, {bad['count'].sum()} times, "
                               f"in {tr['case'][took].nunique()} cases")
        assert legends[len(given)] in draw_actual_vs_sop(log, line_sop, lang="en", open_cases=given)
    assert open_ids and legends[len(open_ids)] != legends[0]


def test_the_reports_map_counts_the_audits_variants_as_the_events_would(line_sop, monkeypatch):
    # the report draws the map from the audit's variants (no pass over the events): the same
    # drawing as from the log, open cases and the SOP's forbidden flows included
    from sopaudit.discovery import overlay
    from sopaudit.report.maps import process_drawings

    log = two_week_log(swapped_recent=True)
    r = sa.audit(log, line_sop, processes=1)
    open_ids = set(r.cases.loc[r.cases["status"] == "incomplete", "case_id"])
    assert open_ids and r.variant_paths
    from_log = overlay.draw_actual_vs_sop(r.log, line_sop, lang="en", max_nodes=30, open_cases=open_ids)
    monkeypatch.setattr(overlay, "case_paths", lambda *a, **k: pytest.fail("went over the events"))
    drawn = process_drawings(r, {}, None, "en").actual_svg
    assert drawn == from_log
    assert "Flows the SOP does not allow: 3 flows, 13 times, in 11 cases" in drawn
    # a result without the variants (merged partitions) is drawn from its log
    monkeypatch.undo()
    assert process_drawings(dataclasses.replace(r, variant_paths={}), {}, None, "en").actual_svg == from_log


def test_the_method_section_says_how_and_how_many(line_sop):
    import re

    from sopaudit.report.html import render_html

    html = render_html(sa.audit(two_week_log(), line_sop, processes=1), "en")
    block = re.search(r'<div id="open-method">(.*?)</div>', html, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", block).split())
    assert "within the 95th percentile of the waits observed before the step the SOP expects next" in text
    for line in ("judged on the whole run: 30", "did every step (some out of order): never open: 1",
                 "still open: within the waits observed for the next step: 4",
                 "stopped: waited longer than the limit for the next step: 10"):
        assert line in text


def test_sopaudit_discover_uses_the_audits_open_cases(tmp_path):
    import json

    from click.testing import CliRunner

    from sopaudit.cli import main

    path = tmp_path / "log.csv"
    log = two_week_log(swapped_recent=False)
    log["time:timestamp"] = log["time:timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    log.to_csv(path, index=False)
    res = CliRunner().invoke(main, ["discover", "--log", str(path), "--sop", str(FIXTURES / "line_sop.yaml"),
                                    "--out", str(tmp_path / "out"), "--tz", "Asia/Jakarta"])
    assert res.exit_code == 0, res.output
    diff = pd.read_csv(tmp_path / "out" / "differences.csv", dtype=str)
    bad = diff[diff["kind"] == "flow_not_in_sop"].set_index(["source", "target"])
    assert bad.loc[("c", "■"), ["count", "cases"]].tolist() == ["10", "10"]  # the 3 open cases left out
    assert ("a", "■") not in bad.index  # the case that only registered is open too
    models = json.loads((tmp_path / "out" / "models.json").read_text(encoding="utf-8"))
    assert models["sop"]["open_cases"] == 4

    svg = (tmp_path / "out" / "actual_vs_sop.svg").read_text(encoding="utf-8")
    # the drawing's legend counts what the table counts: c -> end 10 times in 10 cases
    assert "Alur yang tidak diizinkan SOP: 1 alur, 10 kali, dalam 10 kasus" in svg
