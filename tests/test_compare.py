"""tests of sopaudit.discovery.flows and overlay: the flows an SOP allows (exact sets, and equal to pm4py's
exhaustive playout), the differences table on hand-made logs and the demo log, and the two
drawings (highlighted flows, overlay colours and numbers, escaping, determinism)."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

import sopaudit as sa
from sopaudit import drawing
from sopaudit.conform.labels import map_activities
from sopaudit.discovery import flows as F
from sopaudit.discovery import overlay as C
from sopaudit.discovery.legend import with_legend
from sopaudit.discovery.mining import END, START, dfg
from sopaudit.sop import compile_sop

from conftest import DEMO_LOG, dataset, make_log

SVG = "{http://www.w3.org/2000/svg}"


def _sop(tmp_path, flow: str, name: str = "sop.yaml", title: str = "T"):
    """A small SOP whose flow is the given YAML block; its steps are the one-letter ids the flow
    names, each called "Step <ID>"."""
    steps = sorted(set(re.findall(r"\b([a-h])\b", flow)))
    step_lines = "\n".join(f"  - {{id: {s}, name: Step {s.upper()}}}" for s in steps)
    text = (f"sop:\n  code: T-1\n  title: {title}\nsteps:\n{step_lines}\nflow:\n"
            + textwrap.indent(textwrap.dedent(flow).strip("\n"), "  ") + "\n")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return sa.load_sop(path)


@pytest.fixture(scope="module")
def demo_log():
    return sa.read_log(DEMO_LOG, case="no_permohonan", activity="tahapan", time="waktu",
                       resource="petugas", tz="Asia/Pontianak")


@pytest.fixture(scope="module")
def demo_result(demo_log, passport_sop):
    return sa.audit(demo_log, passport_sop, processes=1)


# ---------------------------------------------------------------------------------------------
# the flows an SOP allows


def test_mini_sop_flows_exact(mini_sop) -> None:
    # a, optional b, choice (c | r then end 'rejected'), parallel (d, e), loop f, g
    f = F.sop_flows(mini_sop)
    assert f.steps == ("a", "b", "c", "r", "d", "e", "f", "g")
    assert f.starts == {"a"}
    assert f.ends == {"g", "r"}  # the rejection is a legitimate end
    assert f.pairs == {
        ("a", "b"), ("a", "c"), ("a", "r"),  # b may be left out
        ("b", "c"), ("b", "r"),
        ("c", "d"), ("c", "e"), ("d", "e"), ("e", "d"),  # parallel: either order
        ("d", "f"), ("e", "f"),
        ("f", "f"), ("f", "g"),  # the loop goes back to f
    }
    assert not f.allows_empty
    assert f.allows(START, "a") and not f.allows(START, "b")
    assert f.allows("r", END) and not f.allows("c", END)
    assert not f.allows(START, END)
    table = f.table()
    assert list(table.columns) == ["source", "target"]
    assert len(table) == 13 + 1 + 2
    assert tuple(table.iloc[0]) == (START, "a") and tuple(table.iloc[-1]) == ("g", END)


def test_passport_sop_flows_exact(passport_sop) -> None:
    f = F.sop_flows(passport_sop)
    main = ["pra_permohonan", "pembayaran", "kedatangan", "pemeriksaan_berkas", "cek_pencegahan",
            "verifikasi_penyelia", "foto_sidik_jari", "wawancara", "verifikasi_pembayaran",
            "adjudikasi", "persetujuan", "pencetakan", "uji_kualitas", "laminasi", "penyerahan"]
    expected = set(zip(main, main[1:], strict=False)) | {
        ("pemeriksaan_berkas", "pemeriksaan_berkas"),  # re-scan loop
        ("cek_pencegahan", "penolakan"), ("wawancara", "penolakan"), ("adjudikasi", "penolakan"),
        ("uji_kualitas", "berita_acara_rusak"), ("berita_acara_rusak", "pencetakan"),  # reprint
    }
    assert f.pairs == expected
    assert len(f.pairs) == 20
    assert f.starts == {"pra_permohonan"}
    assert f.ends == {"penyerahan", "penolakan"}
    # the rejection is named at three decisions; it is placed at the last of them
    assert f.steps == (*main[:11], "penolakan", *main[11:13], "berita_acara_rusak", *main[13:])
    assert set(f.steps) == set(passport_sop.step_ids)


@pytest.mark.parametrize(
    ("flow", "pairs", "starts", "ends", "empty"),
    [
        ("- a\n- b\n- c", {("a", "b"), ("b", "c")}, {"a"}, {"c"}, False),
        ("- optional: a\n- b", {("a", "b")}, {"a", "b"}, {"b"}, False),
        ("- a\n- optional: b", {("a", "b")}, {"a"}, {"a", "b"}, False),
        ("- optional: a", set(), {"a"}, {"a"}, True),
        ("- a\n- choice:\n    question: ok?\n    yes: [b]\n    no: [c, {end: stop}]\n- d",
         {("a", "b"), ("a", "c"), ("b", "d")}, {"a"}, {"c", "d"}, False),
        # any order of a, (b then c), d: every pair of different steps but c right before b
        ("- parallel: [[a], [b, c], [d]]",
         {(x, y) for x in "abcd" for y in "abcd" if x != y} - {("c", "b")},
         {"a", "b", "d"}, {"a", "c", "d"}, False),
        ("- loop:\n    body: [a, b]\n    redo: [c]\n    question: ok?\n- d",
         {("a", "b"), ("b", "c"), ("c", "a"), ("b", "d")}, {"a"}, {"d"}, False),
    ],
    ids=["sequence", "optional-first", "optional-last", "only-optional", "choice-with-end",
         "parallel", "loop-redo"],
)
def test_small_sop_flows_exact(tmp_path, flow, pairs, starts, ends, empty) -> None:
    f = F.sop_flows(_sop(tmp_path, flow))
    assert f.pairs == pairs
    assert f.starts == starts
    assert f.ends == ends
    assert f.allows_empty is empty
    assert f.allows(START, END) is empty


def _playout_flows(net, max_len: int):
    from pm4py.algo.simulation.playout.petri_net import algorithm as playout

    traces = playout.apply(*net.to_pm4py(), variant=playout.Variants.EXTENSIVE,
                           parameters={"maxTraceLength": max_len, "return_elements": False})
    pairs, starts, ends = set(), set(), set()
    for trace in traces:
        acts = [e["concept:name"] for e in trace]
        if acts:
            starts.add(acts[0])
            ends.add(acts[-1])
            pairs.update(zip(acts, acts[1:], strict=False))
    return pairs, starts, ends


@pytest.mark.parametrize("which", ["mini", "passport", "running-example"])
def test_flows_equal_pm4py_playout(which, mini_sop, passport_sop) -> None:
    """pm4py's exhaustive playout (every trace up to a length that takes each loop at least
    twice) is an independent oracle for the reachability-graph computation."""
    if which == "running-example":
        sop = sa.load_sop(dataset("running_example", "running-example.pnml"))
        max_len = 12
    else:
        sop, max_len = (mini_sop, 12) if which == "mini" else (passport_sop, 22)
    f = F.sop_flows(sop)
    pairs, starts, ends = _playout_flows(compile_sop(sop), max_len)
    assert (f.pairs, f.starts, f.ends) == (pairs, starts, ends)


def test_imported_net_orders_steps_by_distance() -> None:
    sop = sa.load_sop(dataset("running_example", "running-example.pnml"))
    f = F.sop_flows(sop)
    assert f.steps[0] == "register request"
    assert f.steps.index("decide") > f.steps.index("check ticket")
    assert f.steps.index("pay compensation") > f.steps.index("decide")
    assert F.sop_flows(compile_sop(sop)) == F.sop_flows(sop)  # a compiled net works too


# ---------------------------------------------------------------------------------------------
# the differences table


def _mini_log() -> pd.DataFrame:
    return make_log({
        "ok": ["a", "c", "d", "e", "f", "g"],
        "alias": ["REG", "c", "e", "d", "f", "f", "g"],  # REG is an alias of a
        "rej": ["a", "r"],
        "bad1": ["a", "d", "c", "e", "f", "g"],
        "bad1b": ["a", "d", "c", "e", "f", "g"],
        "bad2": ["a", "c", "d", "X", "e", "f", "g"],
        "bad3": ["c", "d", "e", "f"],
        "bad4": ["a", "c", "d", "e", "f", "g", "g", "g"],
    })


def test_compare_mini_exact(mini_sop) -> None:
    table = F.compare(_mini_log(), mini_sop)
    assert list(table.columns) == F.DIFFERENCE_COLUMNS
    got = [(r.kind, r.source, r.target, r.count, r.cases, r.example_cases)
           for r in table.itertuples(index=False)]
    assert got == [
        ("activity_not_in_sop", "X", "", 1, 1, "bad2"),
        ("step_not_in_log", "b", "", 0, 0, ""),
        # by count, then SOP order of the source and the target
        ("flow_not_in_sop", "a", "d", 2, 2, "bad1; bad1b"),
        ("flow_not_in_sop", "d", "c", 2, 2, "bad1; bad1b"),
        ("flow_not_in_sop", "g", "g", 2, 1, "bad4"),  # twice in one case
        ("flow_not_in_sop", START, "c", 1, 1, "bad3"),  # a case must start with a
        ("flow_not_in_sop", "d", "X", 1, 1, "bad2"),
        ("flow_not_in_sop", "f", END, 1, 1, "bad3"),  # nor may it stop after f
        ("flow_not_in_sop", "X", "e", 1, 1, "bad2"),
        ("flow_not_in_log", "a", "b", 0, 0, ""),
        ("flow_not_in_log", "b", "c", 0, 0, ""),
        ("flow_not_in_log", "b", "r", 0, 0, ""),
    ]
    row = table[(table.source == "a") & (table.target == "d")].iloc[0]
    assert row.case_share == pytest.approx(2 / 8)
    assert row.source_name == "Register" and row.target_name == "Pay"
    assert row.detail == "the SOP does not allow 'Pay' directly after 'Register'"
    details = dict(zip(zip(table.source, table.target, strict=True), table.detail, strict=True))
    assert details[(START, "c")] == "the SOP does not start with 'Check'"
    assert details[("f", END)] == "the SOP does not end after 'Print'"
    assert details[("X", "e")] == "'X' is not an SOP step"


def test_compare_conforming_log(mini_sop) -> None:
    cases = {"1": ["a", "b", "c", "d", "e", "f", "g"], "2": ["a", "r"],
             "3": ["a", "c", "e", "d", "f", "f", "g"]}
    table = F.compare(make_log(cases), mini_sop)
    # nothing outside the SOP; only the one flow no case took
    assert [(r.kind, r.source, r.target, r.count) for r in table.itertuples(index=False)] == [
        ("flow_not_in_log", "b", "r", 0)]
    table = F.compare(make_log({**cases, "4": ["a", "b", "r"]}), mini_sop)
    assert table.empty and list(table.columns) == F.DIFFERENCE_COLUMNS


def test_compare_does_not_modify_the_log(mini_sop) -> None:
    log = _mini_log()
    before = log.copy()
    F.compare(log, mini_sop)
    pd.testing.assert_frame_equal(log, before)


def test_compare_demo_log_exact(demo_log, passport_sop) -> None:
    table = F.compare(demo_log, passport_sop)
    outside = table[table.kind == "activity_not_in_sop"]
    assert list(zip(outside.source, outside["count"], outside.cases, strict=True)) == [("TITIP_BERKAS", 3, 3)]
    assert outside.example_cases.tolist() == ["2024PAS00054; 2024PAS00055; 2024PAS00056"]
    bad = table[table.kind == "flow_not_in_sop"]
    # the demo's injected deviations, one flow each (see catatan_demo in the sample)
    assert dict(zip(zip(bad.source, bad.target, strict=True), bad["count"], strict=True)) == {
        ("foto_sidik_jari", "verifikasi_pembayaran"): 5,  # interview skipped (2) or done before photo (3)
        ("pemeriksaan_berkas", "TITIP_BERKAS"): 3, ("TITIP_BERKAS", "cek_pencegahan"): 3,
        ("cek_pencegahan", "foto_sidik_jari"): 3,  # supervisor check skipped
        ("verifikasi_penyelia", "wawancara"): 3, ("wawancara", "foto_sidik_jari"): 3,
        ("wawancara", "wawancara"): 3,
        ("verifikasi_pembayaran", "persetujuan"): 2, ("persetujuan", "adjudikasi"): 2,
        ("adjudikasi", "pencetakan"): 2,
        ("persetujuan", "persetujuan"): 2,
        ("pencetakan", "laminasi"): 2,  # quality test skipped
        ("verifikasi_pembayaran", END): 2,  # still open: stopped before the adjudication
    }
    assert int(bad["count"].sum()) == 35
    assert (table.kind == "step_not_in_log").sum() == 0
    assert (table.kind == "flow_not_in_log").sum() == 0
    # counts are those of the directly-follows graph of the mapped log
    d = dfg(map_activities(demo_log, passport_sop)).set_index(["source", "target"])
    for r in bad.itertuples(index=False):
        assert d.loc[(r.source, r.target), "count"] == r.count
        assert d.loc[(r.source, r.target), "cases"] == r.cases


# ---------------------------------------------------------------------------------------------
# drawings


def _nodes(svg: str) -> dict[str, ET.Element]:
    """Node groups of a drawing by their first text line."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            first = g.find(f"{SVG}text/{SVG}tspan")
            out[first.text] = g
    return out


def _lines(g: ET.Element) -> list[str]:
    return [t.text for t in g.iter(f"{SVG}tspan")]


def _fill(g: ET.Element) -> str:
    shape = next(e for e in g if e.tag in (f"{SVG}rect", f"{SVG}polygon", f"{SVG}ellipse"))
    return shape.get("fill")


def _dashed_red_edges(svg: str) -> int:
    root = ET.fromstring(svg)
    return sum(1 for p in root.iter(f"{SVG}path")
               if p.get("stroke") == C.OUTSIDE and p.get("stroke-dasharray"))


def test_actual_vs_sop_demo(demo_log, passport_sop) -> None:
    svg = C.draw_actual_vs_sop(demo_log, passport_sop)
    assert _dashed_red_edges(svg) == 13  # every flow the SOP does not allow, all drawn
    assert "Alur yang tidak diizinkan SOP: 13 alur, 35 kali, dalam 22 kasus" in svg
    assert "Aktivitas di luar SOP: 1" in svg
    nodes = _nodes(svg)
    assert _fill(nodes["TITIP_BERKAS"]) == C.OUTSIDE
    assert _lines(nodes["Wawancara"]) == ["Wawancara", "62"]
    assert _fill(nodes["Wawancara"]) != C.OUTSIDE
    assert C.draw_actual_vs_sop(demo_log, passport_sop) == svg  # the same bytes


def test_actual_vs_sop_counts_hidden_flows(demo_log, passport_sop) -> None:
    # a threshold that hides the rare flows: the legend still counts all 13 and says how many show
    svg = C.draw_actual_vs_sop(demo_log, passport_sop, lang="en", min_edge_share=0.06)
    drawn = _dashed_red_edges(svg)
    assert 0 < drawn < 13
    assert (f"Flows the SOP does not allow: 13 flows, 35 times, in 22 cases ({drawn} of them drawn; "
            "the others are below the frequency thresholds)") in svg


def test_sop_overlay_flowchart_demo(demo_result) -> None:
    svg = C.draw_sop_overlay(demo_result)
    nodes = _nodes(svg)
    wawancara = " ".join(_lines(nodes["8. Wawancara"]))
    assert "56/61 sesuai urutan (92%)" in wawancara
    assert "terlewat 2 · tidak urut 3 · diulang 3" in wawancara
    assert _fill(nodes["8. Wawancara"]) == C.FAIR  # 92%: from 80% to 95%
    first = next(g for k, g in nodes.items() if k.startswith("1. Pra-permohonan"))
    assert "63/63 sesuai urutan (100%)" in " ".join(_lines(first))
    assert "terlewat" not in " ".join(_lines(first))  # no line of zeros
    assert _fill(first) == C.GOOD
    # decisions are drawn neutral: colour means only how a step is followed
    decisions = [g for g in ET.fromstring(svg).iter(f"{SVG}polygon")]
    assert decisions and {p.get("fill") for p in decisions} == {"#ffffff"}
    assert C.draw_sop_overlay(demo_result) == svg
    en = C.draw_sop_overlay(demo_result, lang="en")
    assert "56/61 in order (92%)" in en and "skipped 2 · out of order 3 · repeated 3" in en


def test_sop_overlay_flows_map(mini_sop) -> None:
    log = make_log({"1": ["a", "c", "d", "e", "f", "g"], "2": ["a", "c", "d", "e", "f", "g"],
                    "3": ["a", "c", "e", "d", "f", "g"], "4": ["a", "r"], "5": ["a", "c", "d", "f", "g"]})
    result = sa.audit(log, mini_sop, processes=1)
    svg = C.draw_sop_overlay(result, chart="flows", lang="en")
    nodes = _nodes(svg)
    assert _fill(nodes["Hand over"]) == C.GOOD
    # e was required by all four cases that reached the parallel block; case 5 skipped it
    assert "3/4 in order (75%)" in " ".join(_lines(nodes["Photo"]))
    assert _fill(nodes["Photo"]) == C.POOR
    assert _fill(nodes["Optional note"]) == C.NONE  # no case did the optional note
    assert "SOP flows never seen in the log: 4" in svg  # a->b, b->c, b->r, f->f
    root = ET.fromstring(svg)
    unseen = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == C.UNSEEN_EDGE]
    assert len(unseen) == 4 and all(p.get("stroke-dasharray") for p in unseen)
    hidden = C.draw_sop_overlay(result, chart="flows", lang="en", show_unseen=False)
    assert not [p for p in ET.fromstring(hidden).iter(f"{SVG}path") if p.get("stroke") == C.UNSEEN_EDGE]
    assert "SOP flows never seen in the log: 4 (not drawn)" in hidden


def test_sop_overlay_of_imported_net_draws_flows() -> None:
    sop = sa.load_sop(dataset("running_example", "running-example.pnml"))
    log = sa.read_log(dataset("running_example", "running-example.xes"))
    result = sa.audit(log, sop, processes=1)
    svg = C.draw_sop_overlay(result, lang="en")  # no written flow: the flows map
    assert "SOP flows never seen in the log" in svg
    with pytest.raises(ValueError, match="chart='flows'"):
        C.draw_sop_overlay(result, chart="flowchart")


def test_labels_are_escaped(tmp_path) -> None:
    sop = _sop(tmp_path, "- a\n- b", title="'Layanan <b>\"A&B\"</b>'")
    log = make_log({"1": ["a", "<script>alert(1)</script>", "b"], "2": ["a", "b"]})
    result = sa.audit(log, sop, processes=1)
    for svg in (C.draw_actual_vs_sop(log, sop), C.draw_sop_overlay(result),
                C.draw_sop_overlay(result, chart="flows")):
        ET.fromstring(svg)  # well-formed
        assert "<script" not in svg and "<b>" not in svg
    actual = C.draw_actual_vs_sop(log, sop)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in actual
    assert "Layanan &lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;" in actual


def test_drawings_write_files(tmp_path, demo_log, passport_sop, demo_result) -> None:
    svg = C.draw_actual_vs_sop(demo_log, passport_sop, tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text(encoding="utf-8") == svg
    svg = C.draw_sop_overlay(demo_result, tmp_path / "o.svg")
    assert (tmp_path / "o.svg").read_text(encoding="utf-8") == svg
    with pytest.raises(ValueError, match="unknown language"):
        C.draw_sop_overlay(demo_result, lang="fr")


def test_legend_size_fits_text() -> None:
    svg = with_legend('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"></svg>\n',
                         "T" * 60, "", [(("line", "#000000", ""), "x")], drawing.Style())
    width = float(re.match(r'<svg [^>]*width="([0-9.]+)"', svg).group(1))
    assert width >= drawing.text_width("T" * 60, 14) + 32
