"""BPMN 2.0: import of diagrams from bpmn.io, Camunda Modeler and Signavio (exact languages),
errors naming the element of unsupported constructs, export with a diagram layout, and the
YAML -> BPMN -> model round trip of every shipped SOP."""

from __future__ import annotations

import random

import defusedxml.ElementTree as SafeET
import pytest

import sopaudit as sa
from sopaudit.conform.align import align_variants
from sopaudit.conform.classify import end_reached
from sopaudit.core.errors import InputFileError, SopError
from sopaudit.sop.bpmn_write import write_bpmn
from sopaudit.sop.compile import compile_sop
from sopaudit.sop.language import flow_language, mutate, net_language

from conftest import FIXTURES, PASSPORT_SOP, dataset

BPMN = FIXTURES / "sop_bpmn"
SHIPPED = sorted(PASSPORT_SOP.parent.glob("*.yaml"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "di": "http://www.omg.org/spec/DD/20100524/DI"}


# --- import -----------------------------------------------------------------------------------


def test_bpmn_io_exclusive_parallel_and_inclusive_gateways():
    sop = sa.load_sop(BPMN / "bpmnio_gateways.bpmn")
    assert sop.header.title == "Layanan Paspor"  # the pool's name: the process has none
    # steps in flow order, with the lane they stand in as their role
    assert [(s.id, s.roles) for s in sop.steps] == [
        ("Pendaftaran permohonan", ("petugas_loket",)), ("Penolakan", ("petugas_loket",)),
        ("Foto", ("petugas_loket",)), ("Wawancara", ("petugas_loket",)), ("Kirim SMS", ("petugas_cetak",)),
        ("Kirim email", ("petugas_cetak",)), ("Cetak", ("petugas_cetak",))]
    assert [(r.id, r.name) for r in sop.roles] == [("petugas_cetak", "Petugas Cetak"),
                                                   ("petugas_loket", "Petugas Loket")]
    main = [("Pendaftaran permohonan", a, b, *notify, "Cetak")
            for a, b in (("Foto", "Wawancara"), ("Wawancara", "Foto"))
            for notify in (("Kirim SMS",), ("Kirim email",), ("Kirim SMS", "Kirim email"),
                           ("Kirim email", "Kirim SMS"))]
    assert net_language(sop.net, 9) == {("Pendaftaran permohonan", "Penolakan"), *main}
    aligned = align_variants([("Pendaftaran permohonan", "Penolakan"), main[0]], sop.net)
    assert end_reached(aligned[("Pendaftaran permohonan", "Penolakan")]) == "Ditolak"
    assert end_reached(aligned[main[0]]) == "Selesai"


def test_camunda_sub_processes_loop_marker_timer_and_boundary_event():
    sop = sa.load_sop(BPMN / "camunda_subprocess.bpmn")
    assert sop.header.title == "Izin tinggal (uji)"
    assert sop.step("Permohonan").notes == "Diajukan secara daring oleh penjamin."
    p, s, v = "Permohonan", "Pindai berkas", "Verifikasi berkas"
    pay, cetak, wait = "Pembayaran PNBP", "Cetak ITAS", "Tunggu kelengkapan"
    assert net_language(sop.net, 8) == {
        (p, s, v),  # the timer on "Tunggu kelengkapan" fired: the application lapsed
        (p, s, v, pay, cetak), (p, s, v, pay, cetak, cetak), (p, s, v, pay, cetak, cetak, cetak),
        (p, s, v, pay, cetak, cetak, cetak, cetak),
        (p, s, v, wait, s, v),
        (p, s, v, wait, s, v, pay, cetak),
    }
    aligned = align_variants([(p, s, v)], sop.net)
    assert end_reached(aligned[(p, s, v)]) == "Permohonan kedaluwarsa"


def test_signavio_link_events_event_gateway_and_implicit_split_and_merge():
    sop = sa.load_sop(BPMN / "signavio_links.bpmn")
    assert sop.header.title == "Penyerahan paspor"
    assert net_language(sop.net, 8) == {
        ("Laminasi", a, b, c, "Arsipkan berkas")
        for a, b in (("Catat di buku penyerahan", "Kirim SMS pemberitahuan"),
                     ("Kirim SMS pemberitahuan", "Catat di buku penyerahan"))
        for c in ("Penyerahan paspor", "Pembatalan paspor")}


def test_running_example_bpmn_has_the_language_of_its_pnml():
    by_bpmn = sa.load_sop(dataset("running_example", "running-example.bpmn"))
    by_pnml = sa.load_sop(dataset("running_example", "running-example.pnml"))
    assert {s.id for s in by_bpmn.steps} == {s.id for s in by_pnml.steps}
    lang = net_language(by_bpmn.net, 11)
    assert len(lang) == 40 and lang == net_language(by_pnml.net, 11)


def test_running_example_bpmn_audits_its_log():
    log = sa.read_log(dataset("running_example", "running-example.xes"))
    result = sa.audit(log, sa.load_sop(dataset("running_example", "running-example.bpmn")), processes=1)
    assert result.metrics["cases"] == 6 and result.metrics["conforming_cases"] == 6
    assert result.metrics["deviations"] == 0
    assert set(result.cases["end_reached"]) == {"end"}


HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/'
        'BPMN/20100524/MODEL" id="D1" targetNamespace="http://bpmn.io/schema/bpmn">\n')
SE, EE = '<bpmn:startEvent id="S" />', '<bpmn:endEvent id="E" />'


def doc(*parts: str) -> str:
    return HEAD + '<bpmn:process id="P1">' + "".join(parts) + "</bpmn:process></bpmn:definitions>\n"


def task(i: str, extra: str = "") -> str:
    return f'<bpmn:task id="{i}" name="{i}"{extra} />'


def flow(a: str, b: str) -> str:
    return f'<bpmn:sequenceFlow id="F_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'


SUB = ('<bpmn:subProcess id="SP"><bpmn:startEvent id="S2" /><bpmn:task id="B" name="B"/><bpmn:endEvent id="E3" />'
       '<bpmn:sequenceFlow id="f8" sourceRef="S2" targetRef="B"/><bpmn:sequenceFlow id="f9" sourceRef="B" '
       'targetRef="E3"/></bpmn:subProcess>')

UNSUPPORTED = [
    pytest.param(doc(SE, task("A"), '<bpmn:complexGateway id="G1" name="Rumit" />', EE, flow("S", "A"),
                     flow("A", "G1"), flow("G1", "E")),
                 ["element 'G1' (complexGateway 'Rumit') is not supported: a complex gateway has no fixed rule "
                  "for which branches run; use exclusive, parallel or inclusive gateways"], id="complex_gateway"),
    pytest.param(doc(SE, '<bpmn:adHocSubProcess id="AH1" name="Bebas" />', EE, flow("S", "AH1"), flow("AH1", "E")),
                 ["element 'AH1' (adHocSubProcess 'Bebas') is not supported: an ad-hoc sub-process has no order; "
                  "model its steps with gateways, or list them in a parallel block"], id="ad_hoc_sub_process"),
    pytest.param(doc(SE, task("A"), EE, flow("S", "A"), flow("A", "E"),
                     '<bpmn:subProcess id="ES1" triggeredByEvent="true"><bpmn:startEvent id="S2" /></bpmn:subProcess>'),
                 ["element 'ES1' (event sub-process) is not supported: it can interrupt the process at any time; "
                  "model its trigger as a decision instead"], id="event_sub_process"),
    pytest.param(doc(SE, task("A"), EE, '<bpmn:boundaryEvent id="BE1" attachedToRef="A" cancelActivity="false" />',
                     task("B"), '<bpmn:endEvent id="E2" />', flow("S", "A"), flow("A", "E"), flow("BE1", "B"),
                     flow("B", "E2")),
                 ["boundary event 'BE1' is non-interrupting, which is not supported; model the extra path as a "
                  "parallel branch"], id="non_interrupting_boundary_event"),
    pytest.param(doc(SE, SUB, EE, '<bpmn:boundaryEvent id="BE2" attachedToRef="SP" />', '<bpmn:endEvent id="E2" />',
                     flow("S", "SP"), flow("SP", "E"), flow("BE2", "E2")),
                 ["boundary event 'BE2' is attached to 'SP'; boundary events are supported only on tasks without "
                  "loop markers: model the exception as a decision after the step"], id="boundary_on_sub_process"),
    pytest.param(doc(SE, task("A"), EE, '<bpmn:task id="C1" name="Batalkan" isForCompensation="true" />',
                     flow("S", "A"), flow("A", "E")),
                 ["element 'C1' (task 'Batalkan') is a compensation activity, which is not supported; model the "
                  "compensation as normal steps after a decision"], id="compensation"),
    pytest.param(doc(SE, '<bpmn:exclusiveGateway id="X1" />', task("A"), task("B"), '<bpmn:inclusiveGateway id="J1" />',
                     EE, flow("S", "X1"), flow("X1", "A"), flow("X1", "B"), flow("A", "J1"), flow("B", "J1"),
                     flow("J1", "E")),
                 ["inclusive gateway 'J1' joins flows that no inclusive gateway split; use an exclusive gateway to "
                  "merge alternatives or a parallel gateway to join parallel branches"], id="inclusive_join_alone"),
    pytest.param(doc(SE, '<bpmn:inclusiveGateway id="O1" />', task("A"), task("B"), '<bpmn:exclusiveGateway id="X2" />',
                     EE, flow("S", "O1"), flow("O1", "A"), flow("O1", "B"), flow("A", "X2"), flow("B", "X2"),
                     flow("X2", "E")),
                 ["inclusive gateway 'O1' splits the flow, but its branches do not all meet again at one inclusive "
                  "gateway; join them with an inclusive gateway, or use exclusive or parallel gateways"],
                 id="inclusive_split_alone"),
    pytest.param(doc(SE, '<bpmn:parallelGateway id="P2" />', task("A"), task("B"), EE, '<bpmn:endEvent id="E2" />',
                     flow("S", "P2"), flow("P2", "A"), flow("P2", "B"), flow("A", "E"), flow("B", "E2")),
                 ["no run of this process reaches its end with nothing left running (e.g. parallel branches that "
                  "end in separate end events, or a join that waits for a branch that never comes); join parallel "
                  "branches with a parallel gateway before one end event"], id="parallel_branches_end_apart"),
    pytest.param(doc(SE, task("A"), EE, flow("S", "A"), flow("A", "E"), flow("A", "Z9")),
                 ["sequence flow 'F_A_Z9' has targetRef 'Z9', which does not exist"], id="flow_to_unknown_element"),
    pytest.param(doc(SE, task("A"), '<bpmn:intermediateThrowEvent id="L1"><bpmn:linkEventDefinition name="X" />'
                     '</bpmn:intermediateThrowEvent>', flow("S", "A"), flow("A", "L1")),
                 ["link event 'L1' throws to link 'X', but no catching link event of that name is in the same "
                  "(sub-)process"], id="link_without_catch"),
    pytest.param(doc(task("A"), EE, flow("A", "E")),
                 ["element 'A' (task 'A') has no incoming sequence flow, so it can never run; connect it or delete it",
                  "the process has no start event; add one where the service begins"], id="no_start_event"),
    pytest.param(doc(SE, task("A"), task("B"), EE,
                     '<bpmn:sequenceFlow id="FC" sourceRef="A" targetRef="B"><bpmn:conditionExpression>x'
                     '</bpmn:conditionExpression></bpmn:sequenceFlow>', flow("S", "A"), flow("B", "E"), flow("A", "E")),
                 ["sequence flow 'FC' leaving 'A' has a condition; conditional flows are supported only after a "
                  "gateway: put an exclusive or inclusive gateway after the element"], id="condition_after_a_task"),
    pytest.param(HEAD + '<bpmn:collaboration id="C"><bpmn:participant id="PA" name="Kantor" processRef="P1"/>'
                 '<bpmn:participant id="PB" name="Bank" processRef="P2"/></bpmn:collaboration>'
                 '<bpmn:process id="P1" name="Kantor">' + SE + task("A") + EE + flow("S", "A") + flow("A", "E")
                 + '</bpmn:process><bpmn:process id="P2" name="Bank"><bpmn:startEvent id="S9"/><bpmn:task id="B9"/>'
                 '</bpmn:process></bpmn:definitions>',
                 ["the file holds 2 processes with steps ('P1' (Kantor), 'P2' (Bank)); sopaudit audits one process: "
                  "keep one pool, or save each pool in its own file"], id="two_pools_with_steps"),
    pytest.param('<?xml version="1.0"?><pnml><net id="n"/></pnml>',
                 ["not a BPMN 2.0 file (the root element is not <definitions> in the namespace "
                  "http://www.omg.org/spec/BPMN/20100524/MODEL); export the diagram as BPMN 2.0 XML"], id="not_bpmn"),
]


@pytest.mark.parametrize(("text", "expected"), UNSUPPORTED)
def test_unsupported_or_broken_diagrams_name_the_element(tmp_path, text, expected):
    path = tmp_path / "model.bpmn"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SopError) as err:
        sa.load_sop(path)
    assert err.value.problems == [f"{path}: {m}" for m in expected]


def test_xml_with_a_doctype_is_refused(tmp_path):
    path = tmp_path / "bomb.bpmn"
    path.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>' + doc(SE)[39:], encoding="utf-8")
    with pytest.raises(InputFileError, match="refused to read this XML because it declares a DTD"):
        sa.load_sop(path)


def test_inclusive_gateway_with_three_branches_runs_any_nonempty_subset(tmp_path):
    path = tmp_path / "or3.bpmn"
    path.write_text(doc(SE, '<bpmn:inclusiveGateway id="O" />', task("A"), task("B"), task("C"),
                        '<bpmn:inclusiveGateway id="J" />', EE, flow("S", "O"), flow("O", "A"), flow("O", "B"),
                        flow("O", "C"), flow("A", "J"), flow("B", "J"), flow("C", "J"), flow("J", "E")),
                    encoding="utf-8")
    lang = net_language(sa.load_sop(path).net, 4)
    assert len(lang) == 3 + 3 * 2 + 6 and ("A",) in lang and ("C", "A") in lang and ("A", "B", "A") not in lang


# --- export -----------------------------------------------------------------------------------


def _bounds(el):
    b = el.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _on_border(p, box) -> bool:
    x, y, w, h = box
    inside = x - 0.01 <= p[0] <= x + w + 0.01 and y - 0.01 <= p[1] <= y + h + 0.01
    edge = min(abs(p[0] - x), abs(p[0] - x - w), abs(p[1] - y), abs(p[1] - y - h)) < 0.01
    return inside and edge


def _clean_edges(shapes, flows, edges) -> list[str]:
    """Flows that are not orthogonal, do not start and end on their shapes' borders, or pass
    through another shape."""
    bad = []
    for fid, pts in sorted(edges.items()):
        src, dst = flows[fid].get("sourceRef"), flows[fid].get("targetRef")
        if len(pts) < 2 or not all(a[0] == b[0] or a[1] == b[1] for a, b in zip(pts, pts[1:], strict=False)):
            bad.append(f"{fid}: not orthogonal")
        if not (_on_border(pts[0], shapes[src]) and _on_border(pts[-1], shapes[dst])):
            bad.append(f"{fid}: does not touch its shapes")
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            for sid, (x, y, w, h) in shapes.items():
                if sid not in (src, dst) and min(x0, x1) < x + w and max(x0, x1) > x \
                        and min(y0, y1) < y + h and max(y0, y1) > y:
                    bad.append(f"{fid}: crosses {sid}")
    return bad


def _layout(text: str):
    root = SafeET.fromstring(text.encode("utf-8"))
    shapes = {s.get("bpmnElement"): _bounds(s) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    labels = [_bounds(s.find("bpmndi:BPMNLabel", NS)) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")
              if s.find("bpmndi:BPMNLabel", NS) is not None]
    flows = {f.get("id"): f for f in root.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
    edges = {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y"))) for p in e.findall("di:waypoint", NS)]
             for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    return shapes, labels, flows, edges


def test_export_layout_is_clean_for_random_flows():
    from sopaudit.sop.model import SOP, Header, Sequence, Step, StepRef, always_ends, walk
    from test_sop_language import _random_flow

    rng = random.Random(99)
    checked = 0
    while checked < 60:
        flow = _random_flow(rng, 4, True)
        if any(always_ends(a) for s in walk(flow) if isinstance(s, Sequence) for a in s.items[:-1]):
            continue
        used = sorted({n.step for n in walk(flow) if isinstance(n, StepRef)})
        shapes, labels, flows, edges = _layout(write_bpmn(SOP(Header("R", "R"), (), tuple(Step(s, s) for s in used),
                                                               flow)))
        boxes = sorted(shapes.items())
        assert not [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if _overlap(ba, bb)], flow
        assert not [lb for lb in labels for b in shapes.values() if _overlap(lb, b)], flow
        assert not [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:] if _overlap(a, b)], flow
        assert _clean_edges(shapes, flows, edges) == [], flow
        checked += 1


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_export_has_a_clean_vertical_layout(path):
    sop = sa.load_sop(path)
    text = write_bpmn(sop)
    assert text == write_bpmn(sa.load_sop(path))  # same bytes every time
    root = SafeET.fromstring(text.encode("utf-8"))
    process = root.find("bpmn:process", NS)
    elements = {e.get("id"): e for e in process if e.get("id")}
    flows = {i: e for i, e in elements.items() if e.tag.endswith("sequenceFlow")}
    nodes = {i: e for i, e in elements.items() if i not in flows}
    shapes = {s.get("bpmnElement"): _bounds(s) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y"))) for p in e.findall("di:waypoint", NS)]
             for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert set(shapes) == set(nodes) and set(edges) == set(flows)
    # no two shapes overlap, and no label overlaps a shape
    boxes = sorted(shapes.items())
    assert not [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if _overlap(ba, bb)]
    labels = [_bounds(s.find("bpmndi:BPMNLabel", NS)) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")
              if s.find("bpmndi:BPMNLabel", NS) is not None]
    assert labels and not [lb for lb in labels for b in shapes.values() if _overlap(lb, b)]
    assert _clean_edges(shapes, flows, edges) == []
    # the first step stands below the start event: the flow reads top to bottom
    start = next(i for i, e in nodes.items() if e.tag.endswith("startEvent"))
    first = shapes[flows[next(iter(f for f in flows if flows[f].get("sourceRef") == start))].get("targetRef")]
    assert first[1] > shapes[start][1]
    # every decision says ya / tidak on its two answers
    questions = [i for i, e in nodes.items() if e.tag.endswith("exclusiveGateway") and e.get("name")]
    for q in questions:
        assert sorted(f.get("name") for f in flows.values() if f.get("sourceRef") == q) == ["tidak", "ya"]
    tasks = [e for e in nodes.values() if e.tag.endswith("task")]
    assert {t.get("{urn:sopaudit:bpmn}step") for t in tasks} == set(sop.step_ids)


def test_export_keeps_conditions_and_documentation():
    sop = sa.load_sop(FIXTURES / "branch_sop.yaml")
    root = SafeET.fromstring(write_bpmn(sop).encode("utf-8"))
    cond = [f for f in root.iter(f"{{{NS['bpmn']}}}sequenceFlow") if f.find("bpmn:conditionExpression", NS) is not None]
    assert len(cond) == 1 and cond[0].get("name") == "ya"
    assert cond[0].find("bpmn:conditionExpression", NS).text == "jenis_layanan in [hilang, rusak]"
    gateway = next(g for g in root.iter(f"{{{NS['bpmn']}}}exclusiveGateway") if g.get("name"))
    assert gateway.get("name") == "Paspor hilang atau rusak?"
    default = next(f for f in root.iter(f"{{{NS['bpmn']}}}sequenceFlow") if f.get("id") == gateway.get("default"))
    assert default.get("name") == "tidak"
    passport = SafeET.fromstring(write_bpmn(sa.load_sop(PASSPORT_SOP)).encode("utf-8"))
    berkas = next(t for t in passport.iter(f"{{{NS['bpmn']}}}task") if t.get("id") == "Activity_pemeriksaan_berkas")
    assert berkas.find("bpmn:documentation", NS).text == (
        "Pelaksana: Petugas Pemeriksa / Loket (counter officer)\nKelengkapan: Berkas persyaratan asli\n"
        "Waktu: 15 minutes (inferred)\nOutput: Data permohonan terekam\nAlias: PERIKSA_BERKAS, Pemeriksaan Berkas")
    ids = [e.get("id") for e in passport.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    # a step done at three places of the flow is three tasks
    assert [t.get("id") for t in passport.iter(f"{{{NS['bpmn']}}}task")
            if t.get("{urn:sopaudit:bpmn}step") == "penolakan"] == [
        "Activity_penolakan", "Activity_penolakan_2", "Activity_penolakan_3"]


def test_text_is_escaped_in_the_export(tmp_path):
    path = tmp_path / "esc.yaml"
    path.write_text('sop: {code: "A&B", title: "<Layanan> & \\"kutip\\""}\nsteps:\n'
                    '  - {id: a, name: "Periksa <berkas> & data"}\nflow: [a]\n', encoding="utf-8")
    text = write_bpmn(sa.load_sop(path))
    root = SafeET.fromstring(text.encode("utf-8"))
    assert root.find("bpmn:process", NS).get("name") == '<Layanan> & "kutip"'
    assert next(root.iter(f"{{{NS['bpmn']}}}task")).get("name") == "Periksa <berkas> & data"
    assert "<berkas>" not in text


# --- round trip -------------------------------------------------------------------------------


def round_trip_traces(sop, n_mutants: int = 250, seed: int = 11) -> list[tuple[str, ...]]:
    lang = sorted(flow_language(sop.flow, max_repeats=2))
    rng = random.Random(seed)
    mutants = [mutate(lang[rng.randrange(len(lang))], sop.step_ids + ("lain",), rng) for _ in range(n_mutants)]
    return sorted(set(lang) | set(mutants))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_yaml_to_bpmn_and_back_gives_the_same_verdicts(path, tmp_path):
    sop = sa.load_sop(path)
    out = tmp_path / f"{path.stem}.bpmn"
    out.write_text(write_bpmn(sop), encoding="utf-8")
    back = sa.load_sop(out)
    assert set(back.step_ids) == set(sop.step_ids)
    assert {s.id: s.name for s in back.steps} == {s.id: s.name for s in sop.steps}
    assert {s.id: s.roles for s in back.steps} == {s.id: s.roles for s in sop.steps}
    traces = round_trip_traces(sop)
    assert len(traces) >= 200
    original = align_variants(traces, compile_sop(sop))
    loaded = align_variants(traces, back.net)
    verdicts = {t: original[t].deviations == 0 for t in traces}
    assert verdicts == {t: loaded[t].deviations == 0 for t in traces}
    assert 0 < sum(verdicts.values()) < len(traces)  # both verdicts occur
    # the legitimate ends keep their ids
    for t in traces:
        if verdicts[t]:
            assert end_reached(loaded[t]) == end_reached(original[t])


@pytest.mark.parametrize("name", ["paspor_baru_walkin.yaml", "izin_tinggal_itas.yaml"])
def test_pm4py_reads_the_export_with_the_same_language(name, tmp_path):
    import pm4py

    from sopaudit.sop.compile import CompiledNet

    sop = sa.load_sop(PASSPORT_SOP.with_name(name))
    path = tmp_path / "export.bpmn"
    path.write_text(write_bpmn(sop), encoding="utf-8")
    net = CompiledNet(*pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path))))
    ids = {s.name: s.id for s in sop.steps}  # pm4py labels tasks by their names
    by_pm4py = {tuple(ids[x] for x in t) for t in net_language(net, 12)}
    assert by_pm4py == set(flow_language(sop.flow, max_repeats=None, max_len=12))
