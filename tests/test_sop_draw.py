"""The SOP AP flowchart: its nodes and arrows, SVG and PNG output, escaping, determinism."""

from __future__ import annotations

import pytest

import sopaudit as sa
from sopaudit import drawing
from sopaudit.sop.draw import STYLE, draw_sop, flowchart

from conftest import FIXTURES, PASSPORT_SOP

SHIPPED = sorted(PASSPORT_SOP.parent.glob("*.yaml"))


def test_flowchart_of_the_mini_sop():
    nodes, edges = flowchart(sa.load_sop(FIXTURES / "mini_sop.yaml"))
    assert [(n.id, n.label, n.shape) for n in nodes] == [
        ("t1", "Mulai", "terminator"),
        ("s2", "1. Register\n[Clerk]", "box"),
        ("d3", "Optional note dilakukan?", "diamond"),
        ("s4", "2. Optional note\n[Clerk]", "box"),
        ("d5", "Complete?", "diamond"),
        ("s6", "3. Check\n[Clerk]", "box"),
        ("s7", "4. Reject\n[Head]", "box"),
        ("e8", "Selesai: rejected", "terminator"),
        ("f9", "+", "circle"),
        ("s10", "5. Pay\n[Clerk]", "box"),
        ("s11", "6. Photo\n[Clerk]", "box"),
        ("j12", "+", "circle"),
        ("s13", "7. Print\n[Clerk]", "box"),
        ("d14", "Print ok?", "diamond"),
        ("s15", "8. Hand over\n[Head]", "box"),
        ("t16", "Selesai", "terminator"),
    ]
    assert [(e.source, e.target, e.label) for e in edges] == [
        ("t1", "s2", ""), ("s2", "d3", ""), ("d3", "s4", "ya"), ("d3", "d5", "tidak"), ("s4", "d5", ""),
        ("d5", "s6", "ya"), ("d5", "s7", "tidak"), ("s6", "f9", ""), ("s7", "e8", ""), ("f9", "s10", ""),
        ("f9", "s11", ""), ("s10", "j12", ""), ("s11", "j12", ""), ("j12", "s13", ""), ("s13", "d14", ""),
        ("d14", "s13", "tidak"), ("d14", "s15", "ya"), ("s15", "t16", ""),
    ]


def test_the_loop_goes_back_and_boxes_do_not_overlap():
    nodes, edges = flowchart(sa.load_sop(PASSPORT_SOP))
    layout = drawing.layout_graph(nodes, edges, style=STYLE)
    back = [(r.edge.source, r.edge.target, r.edge.label) for r in layout.edges if r.back]
    labels = {n.id: n.label for n in nodes}
    assert [(labels[s].split("\n")[0], labels[t].split("\n")[0], lab) for s, t, lab in back] == [
        ("Berkas lengkap dan hasil pindai jelas? (tidak = pindai / periksa ulang)",
         "4. Pemeriksaan kelengkapan berkas, pemindaian dan perekaman data", "tidak"),
        ("14. Berita acara blanko rusak", "12. Pencetakan paspor", ""),
    ]
    boxes = layout.node_boxes() + layout.label_boxes()
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    # Mulai at the top, the normal end at the bottom
    assert layout.nodes["t1"].box.y == min(b.y for b in layout.node_boxes())
    end = next(n.id for n in nodes if n.label == "Selesai")
    assert layout.nodes[end].box.bottom == max(b.bottom for b in layout.node_boxes())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_model_draws_to_svg_and_png_deterministically(path, tmp_path):
    sop = sa.load_sop(path)
    svg = draw_sop(sop, tmp_path / "a.svg")
    assert svg == (tmp_path / "a.svg").read_text(encoding="utf-8") == draw_sop(sop)
    assert svg.startswith("<svg") and f"<title>{sop.header.code} " in svg
    for s in sop.steps:
        assert f"{sop.step_ids.index(s.id) + 1}." in svg
    draw_sop(sop, tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_bytes_are_the_same_every_time(tmp_path):
    sop = sa.load_sop(FIXTURES / "mini_sop.yaml")
    draw_sop(sop, tmp_path / "a.png")
    draw_sop(sop, tmp_path / "b.png", fmt="png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_text_is_escaped(tmp_path):
    path = tmp_path / "esc.yaml"
    path.write_text('sop: {code: X, title: "A <b> & \\"c\\""}\nroles: [{id: r, name: "Kasi <Dok> & Arsip"}]\n'
                    'steps:\n  - {id: a, name: "Periksa <script>alert(1)</script>", role: r}\nflow:\n'
                    '  - a\n  - choice: {question: "x < y & z?", yes: [{end: stop}], no: []}\n', encoding="utf-8")
    svg = draw_sop(sa.load_sop(path))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Kasi &lt;Dok&gt; &amp; Arsip" in svg and "x &lt; y &amp; z?" in svg
    assert "<title>X A &lt;b&gt; &amp; &quot;c&quot;</title>" in svg


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown drawing format 'gif'; use svg or png"):
        draw_sop(sa.load_sop(FIXTURES / "mini_sop.yaml"), tmp_path / "x.gif")


def test_the_flowchart_speaks_english_when_asked(tmp_path):
    from click.testing import CliRunner

    from sopaudit.cli import main

    sop = sa.load_sop(FIXTURES / "mini_sop.yaml")
    nodes, edges = flowchart(sop, lang="en")
    labels = [n.label for n in nodes]
    assert labels[0] == "Start" and labels[-1] == "End"
    assert "Optional note done?" in labels and "End: rejected" in labels
    assert {e.label for e in edges} - {""} == {"yes", "no"}
    assert [n.tooltip for n in nodes if n.shape == "circle"] == ["parallel: branches in any order",
                                                               "parallel: all branches done"]
    assert {e.label for e in flowchart(sop)[1]} - {""} == {"ya", "tidak"}
    with pytest.raises(ValueError, match="unknown flowchart language 'fr'"):
        flowchart(sop, lang="fr")
    out = tmp_path / "mini.svg"
    res = CliRunner().invoke(main, ["sop", "draw", str(FIXTURES / "mini_sop.yaml"), "-o", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    svg = out.read_text(encoding="utf-8")
    assert ">Start<" in svg and ">yes<" in svg and "Mulai" not in svg and ">tidak<" not in svg
