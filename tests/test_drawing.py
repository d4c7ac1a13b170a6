"""Tests of sopaudit.drawing: the layered layout keeps boxes and labels apart and edges out of
boxes, output is deterministic and escaped, PNG renders the same layout."""

from __future__ import annotations

import random
import re
import time
import xml.etree.ElementTree as ET

import pytest

from sopaudit import drawing as dr
from sopaudit.drawing import Box, Edge, Layout, Node
from sopaudit.drawing import dot as dot_path

# ---------------------------------------------------------------------------------------------
# helpers


def assert_clean(layout: Layout) -> None:
    """No two node boxes overlap, no two label boxes overlap, no label sits on a node, and no
    edge runs through a node box (other than its own ends) or through any label."""
    nodes = layout.node_boxes()
    labels = layout.label_boxes()
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            assert not a.overlaps(b), ("nodes overlap", a, b)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not a.overlaps(b), ("labels overlap", a, b)
        for b in nodes:
            assert not a.overlaps(b), ("label on a node", a, b)
    for r in layout.edges:
        pts = r.points()
        own = {r.edge.source, r.edge.target}
        for nid, nb in layout.nodes.items():
            if nid in own:
                continue
            inner = Box(nb.box.x + 1, nb.box.y + 1, nb.box.w - 2, nb.box.h - 2)
            assert not any(
                inner.x < x < inner.right and inner.y < y < inner.bottom for x, y in pts
            ), ("edge through a box", r.edge, nid)
        for lb in labels:
            inner = Box(lb.x + 0.5, lb.y + 0.5, lb.w - 1, lb.h - 1)
            assert not any(
                inner.x < x < inner.right and inner.y < y < inner.bottom for x, y in pts
            ), ("edge through a label", r.edge, lb)
        # the arrow ends on the target's outline
        tb = layout.nodes[r.edge.target].box
        tx, ty = r.tip
        assert tb.x - 1 <= tx <= tb.right + 1 and tb.y - 1 <= ty <= tb.bottom + 1


def sop_flowchart() -> tuple[list[Node], list[Edge]]:
    """A small SOP-like flowchart: start, steps, a decision that loops back, an end."""
    nodes = [
        Node("start", "Mulai", shape="terminator", fill="#dff0d8", rank="first"),
        Node("s1", "Terima berkas permohonan dari pemohon di loket"),
        Node("s2", "Verifikasi kelengkapan berkas"),
        Node("d1", "Berkas lengkap?", shape="diamond", fill="#fff3cd"),
        Node("s3", "Kembalikan berkas kepada pemohon"),
        Node("s4", "Cetak dan tanda tangani surat keputusan"),
        Node("s5", "Arsip"),
        Node("end", "Selesai", shape="terminator", fill="#dff0d8", rank="last"),
    ]
    edges = [
        Edge("start", "s1"),
        Edge("s1", "s2"),
        Edge("s2", "d1"),
        Edge("d1", "s4", label="ya"),
        Edge("d1", "s3", label="tidak"),
        Edge("s3", "s1", label="dilengkapi", dashed=True, color="#c0392b"),
        Edge("s4", "s4", label="revisi"),
        Edge("s4", "s5"),
        Edge("s4", "end", label="langsung"),
        Edge("s5", "end"),
    ]
    return nodes, edges


def random_graph(seed: int) -> tuple[list[Node], list[Edge]]:
    rnd = random.Random(seed)
    n = rnd.randint(1, 16)
    words = ["terima", "verifikasi", "berkas", "permohonan", "cetak", "surat", "keputusan"]
    nodes = [
        Node(
            f"n{i}",
            " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 7))),
            shape=rnd.choice(dr.SHAPES),
            rank=rnd.choice(["", "", "", "first", "last"]) if seed % 2 else "",
            order=rnd.random() * 10 if seed % 3 == 0 and rnd.random() < 0.7 else None,
        )
        for i in range(n)
    ]
    edges = []
    for _ in range(rnd.randint(0, 3 * n)):
        a = rnd.randrange(n)
        b = rnd.randrange(n) if rnd.random() < 0.9 else a
        label = rnd.choice(["", "ya", "tidak", "1,234", "label yang panjang sekali di sini"])
        edges.append(Edge(f"n{a}", f"n{b}", label=label, weight=rnd.choice([1, 2, 5, 100])))
    return nodes, edges


# ---------------------------------------------------------------------------------------------
# text


def test_text_width_and_wrap() -> None:
    assert dr.text_width("", 12) == 0
    assert dr.text_width("iiii", 12) < dr.text_width("WWWW", 12)
    assert dr.text_width("中文", 12) == pytest.approx(24.0)
    lines = dr.wrap_text("Verifikasi kelengkapan berkas oleh petugas loket", 12, 120)
    assert len(lines) > 1
    assert all(dr.text_width(s, 12) <= 120 for s in lines)
    assert " ".join(lines) == "Verifikasi kelengkapan berkas oleh petugas loket"
    long_word = "01_HOOFD_490_1a_verylongidentifierwithoutspaces"
    parts = dr.wrap_text(long_word, 12, 80)
    assert "".join(parts) == long_word and all(dr.text_width(s, 12) <= 80 for s in parts)
    assert dr.wrap_text("a\nb", 12, 100) == ["a", "b"]
    # a word broken inside, then the next word continues its last piece's line
    assert dr.wrap_text("WWWWWWW ab cd", 12, 40) == ["WWW", "WWW", "W ab", "cd"]


def test_wrapping_is_linear_in_the_text() -> None:
    # issue 13 defect 6: wrapping 100 KB took 28 s (quadratic); now about 50 ms
    for text in ("x" * 100_000, "ab " * 33_000):
        t0 = time.perf_counter()
        lines = dr.wrap_text(text, 12, 170)
        assert time.perf_counter() - t0 < 1.0
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(dr.text_width(s, 12) <= 170 for s in lines)


def test_a_huge_label_is_cut_for_drawing_and_draws_fast() -> None:
    # issue 13 defect 6: a 1 MB activity name hung the report for more than 5 minutes
    huge = "Verifikasi" + "x" * 1_000_000
    spaced = "kata " * 200_000
    nodes = [Node(huge, shape="box"), Node("b", spaced, shape="diamond"), Node("c", "Selesai")]
    edges = [Edge(huge, "b", label=spaced), Edge("b", "c"), Edge("c", huge)]
    t0 = time.perf_counter()
    lay = dr.layout_graph(nodes, edges)
    svg = dr.render_svg(lay)
    assert time.perf_counter() - t0 < 1.0
    assert_clean(lay)
    # the label is cut to 300 characters ending in an ellipsis; the tooltips to 2,000
    assert "".join(lay.nodes[huge].lines) == huge[:299] + "…"
    assert " ".join(lay.nodes["b"].lines) == spaced[:299] + "…"
    assert " ".join(lay.edges[0].label_lines) == spaced[:299] + "…"
    assert f"<title>{huge[:1999]}…</title>" in svg
    assert len(svg) < 30_000
    ET.fromstring(svg)


# ---------------------------------------------------------------------------------------------
# layout


def test_flowchart_layout() -> None:
    nodes, edges = sop_flowchart()
    lay = dr.layout_graph(nodes, edges)
    assert_clean(lay)
    layer = {nid: nb.layer for nid, nb in lay.nodes.items()}
    assert layer["start"] == 0
    assert layer["end"] == max(layer.values())
    assert layer["s1"] < layer["s2"] < layer["d1"] < layer["s4"] < layer["s5"]
    routes = {(r.edge.source, r.edge.target): r for r in lay.edges}
    back = routes[("s3", "s1")]
    assert back.back and not back.self_loop
    assert back.direction == (-1.0, 0.0)  # enters the side of its target
    loop = routes[("s4", "s4")]
    assert loop.self_loop and loop.label_box is not None
    assert routes[("s1", "s2")].direction == (0.0, 1.0)
    # a single chain is drawn straight: same x for the whole edge
    xs = {round(p[0], 2) for p in routes[("s1", "s2")].points()}
    assert len(xs) == 1
    # labels are the wrapped text of each label
    assert routes[("d1", "s4")].label_lines == ("ya",)


def test_wrapped_node_labels_fit_in_their_boxes() -> None:
    nodes, edges = sop_flowchart()
    lay = dr.layout_graph(nodes, edges, style=dr.Style(max_label_width=100))
    for nb in lay.nodes.values():
        if nb.node.shape == "box":
            assert all(dr.text_width(s, 12) <= nb.box.w - 2 * 10 + 0.01 for s in nb.lines)


def test_order_hints_decide_back_edges() -> None:
    nodes = [Node("a", order=1), Node("b", order=2), Node("c", order=3)]
    edges = [Edge("a", "b"), Edge("b", "c"), Edge("c", "a", weight=50)]
    lay = dr.layout_graph(nodes, edges)
    back = {(r.edge.source, r.edge.target) for r in lay.edges if r.back}
    assert back == {("c", "a")}
    # without hints the heavy edge c->a is kept forward and a light one is reversed
    lay = dr.layout_graph([Node("a"), Node("b"), Node("c")], edges)
    back = {(r.edge.source, r.edge.target) for r in lay.edges if r.back}
    assert ("c", "a") not in back and len(back) == 1


def test_long_edges_and_parallel_edges() -> None:
    nodes = [Node(x) for x in "abcdef"]
    edges = [Edge(a, b) for a, b in zip("abcde", "bcdef", strict=True)]
    edges += [Edge("a", "f", label="skip"), Edge("a", "f", label="skip again"), Edge("b", "e")]
    lay = dr.layout_graph(nodes, edges)
    assert_clean(lay)
    skips = [r for r in lay.edges if r.edge.label.startswith("skip")]
    assert skips[0].label_box != skips[1].label_box


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_are_clean(seed: int) -> None:
    nodes, edges = random_graph(seed)
    lay = dr.layout_graph(nodes, edges)
    assert_clean(lay)
    # pinned nodes: a "last" node sits below every other kind of node
    lasts = [lay.nodes[n.id].layer for n in nodes if n.rank == "last"]
    others = [lay.nodes[n.id].layer for n in nodes if n.rank != "last"]
    if lasts and others:
        assert min(lasts) > max(others)


def test_edges_among_pinned_nodes_still_go_down() -> None:
    nodes = [Node("a", rank="first"), Node("b", rank="first"), Node("c"), Node("d", rank="last")]
    nodes.append(Node("e", rank="last"))
    edges = [Edge("a", "b"), Edge("b", "c"), Edge("c", "d"), Edge("d", "e"), Edge("a", "c")]
    lay = dr.layout_graph(nodes, edges)
    assert_clean(lay)
    layer = {k: v.layer for k, v in lay.nodes.items()}
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}


def test_degenerate_graphs() -> None:
    assert dr.layout_graph([], []).nodes == {}
    ET.fromstring(dr.draw([], []))
    lay = dr.layout_graph([Node("only")], [Edge("only", "only", label="again")])
    assert_clean(lay)
    with pytest.raises(ValueError, match="unknown node"):
        dr.layout_graph([Node("a")], [Edge("a", "b")])
    with pytest.raises(ValueError, match="unique"):
        dr.layout_graph([Node("a"), Node("a")], [])
    with pytest.raises(ValueError, match="shape"):
        dr.layout_graph([Node("a", shape="star")], [])


def test_dense_graph_is_fast_and_clean() -> None:
    rnd = random.Random(3)
    nodes = [Node(f"activity {i}") for i in range(30)]
    edges = [
        Edge(f"activity {rnd.randrange(30)}", f"activity {rnd.randrange(30)}", label=str(i))
        for i in range(150)
    ]
    assert_clean(dr.layout_graph(nodes, edges))


# ---------------------------------------------------------------------------------------------
# rendering


def test_svg_is_deterministic_and_well_formed() -> None:
    nodes, edges = sop_flowchart()
    a = dr.draw(nodes, edges, title="SOP")
    b = dr.draw(list(nodes), list(edges), title="SOP")
    assert a == b
    root = ET.fromstring(a)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert len(root.findall(f".//{ns}g[@class='node']")) == len(nodes)
    assert len(root.findall(f".//{ns}g[@class='edge']")) == len(edges)
    # every edge ends in an arrow marker that exists
    ids = {m.get("id") for m in root.iter(f"{ns}marker")}
    for path in root.iter(f"{ns}path"):
        ref = path.get("marker-end")
        if ref:
            assert ref[5:-1] in ids
    assert 'stroke-dasharray="6 4"' in a  # the dashed loop-back edge


def test_labels_and_attributes_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    nodes = [
        Node("x", hostile, tooltip='"><script>alert(2)</script>'),
        Node("y", "B & C", fill='#fff" onload="alert(3)'),
    ]
    edges = [Edge("x", "y", label=hostile, color='red" onclick="alert(4)', tooltip=hostile)]
    svg = dr.draw(nodes, edges, title=hostile)
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "B &amp; C" in svg
    root = ET.fromstring(svg)  # still well-formed: nothing broke out of an attribute
    for el in root.iter():
        assert not any(k.startswith("on") for k in el.attrib)


def test_png_renders_the_layout_deterministically() -> None:
    nodes, edges = sop_flowchart()
    lay = dr.layout_graph(nodes, edges)
    png = dr.render_png(lay, scale=1.0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == dr.render_png(lay, scale=1.0)
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert abs(width - lay.width) <= 1 and abs(height - lay.height) <= 1
    assert b"Software" not in png


def test_draw_writes_files(tmp_path) -> None:
    nodes, edges = sop_flowchart()
    svg = dr.draw(nodes, edges, path=tmp_path / "sop.svg")
    assert (tmp_path / "sop.svg").read_text(encoding="utf-8") == svg
    assert dr.draw(nodes, edges, path=tmp_path / "sop.png", fmt="png") == svg
    assert (tmp_path / "sop.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="format"):
        dr.draw(nodes, edges, path=tmp_path / "x", fmt="gif")  # type: ignore[arg-type]


def test_svg_numbers_are_rounded() -> None:
    nodes, edges = sop_flowchart()
    svg = dr.draw(nodes, edges)
    assert not re.search(r"\d\.\d{3,}", svg)


# ---------------------------------------------------------------------------------------------
# Graphviz, only when asked for


def test_dot_engine_needs_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dot_path.shutil, "which", lambda _name: None)
    with pytest.raises(RuntimeError, match="Graphviz"):
        dr.layout_graph([Node("a")], [], engine="dot")
    with pytest.raises(ValueError, match="engine"):
        dr.layout_graph([Node("a")], [], engine="neato")  # type: ignore[arg-type]


def test_dot_plain_output_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = [Node("a", "Mulai"), Node("b", "Selesai")]
    edges = [Edge("a", "b", label="ya")]
    plain = (
        "graph 1 2.5 3\n"
        'node n0 1.25 2.5 1 0.5 "" solid box black lightgrey\n'
        'node n1 1.25 0.5 1 0.5 "" solid box black lightgrey\n'
        "edge n0 n1 4 1.25 2.25 1.25 1.8 1.25 1.3 1.25 0.875 ya 1.45 1.5 solid black\n"
        "stop\n"
    )

    class Done:
        stdout = plain

    seen = {}

    def fake_run(cmd, input, **kwargs):  # noqa: A002 - subprocess's own name
        seen["dot"] = input
        return Done()

    monkeypatch.setattr(dot_path.shutil, "which", lambda _name: "/usr/bin/dot")
    monkeypatch.setattr(dot_path.subprocess, "run", fake_run)
    lay = dr.layout_graph(nodes, edges, engine="dot")
    assert "n0 -> n1" in seen["dot"] and 'label="ya"' in seen["dot"]
    m = lay.style.margin
    a, b = lay.nodes["a"].box, lay.nodes["b"].box
    assert a.cx == pytest.approx(90 + m, abs=0.02) and a.cy == pytest.approx(
        216 - 180 + m, abs=0.02
    )
    assert b.cy > a.cy
    r = lay.edges[0]
    assert r.direction == (0.0, 1.0)
    assert r.label_box is not None and r.label_box.cx == pytest.approx(1.45 * 72 + m, abs=0.02)
    ET.fromstring(dr.render_svg(lay))
