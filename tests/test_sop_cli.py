"""`sopaudit sop validate | show | draw | export` and the SOP AP table behind `show`."""

from __future__ import annotations

import pm4py
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.language import flow_language, net_language
from sopaudit.sop.table import format_table, sop_rows

from conftest import FIXTURES, PASSPORT_SOP

ITAS = PASSPORT_SOP.with_name("izin_tinggal_itas.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_validate_reports_every_file_and_exits_2_when_one_is_invalid(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sop: {code: T, title: Test}\nsteps:\n  - {id: a, name: A}\nflow: [a, x]\n", encoding="utf-8")
    res = run("sop", "validate", str(PASSPORT_SOP), str(bad), str(FIXTURES / "sop_bpmn" / "signavio_links.bpmn"))
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        f"ok      {PASSPORT_SOP}: SOP-IMI-PASPOR-01 - 17 steps, 9 roles, flow of 19 step and 20 silent transitions",
        f"INVALID {bad}: 1 problem(s)",
        f"  {bad}:4:11: the flow names unknown step 'x'; define it under steps: or fix the id; known steps: a",
        f"ok      {FIXTURES / 'sop_bpmn' / 'signavio_links.bpmn'}: signavio_links - 6 steps, 0 roles, "
        "net of 6 step and 11 silent transitions",
        "1 of 3 file(s) invalid",
    ]


def test_validate_passes_on_every_shipped_model():
    models = sorted(PASSPORT_SOP.parent.glob("*.yaml"))
    res = run("sop", "validate", *map(str, models))
    assert res.exit_code == 0, res.output
    assert [line.split()[0] for line in res.output.splitlines()] == ["ok"] * 4


def test_show_prints_the_sop_ap_table():
    res = run("sop", "show", str(ITAS), "--width", "400")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "SOP-IMI-ITAS-01  Pemberian Izin Tinggal Terbatas (ITAS)"
    assert "Standar pelayanan: 4 hari kerja dari 'pemeriksaan_berkas' sampai 'penerbitan_itas'" in lines
    assert "  jeda: dari 'pengembalian_berkas' sampai 'pemeriksaan_berkas'" in lines
    header = next(line for line in lines if line.startswith("No "))
    assert [c.strip() for c in header.split("|")] == ["No", "Kegiatan", "Pelaksana", "Kelengkapan", "Waktu",
                                                       "Output", "Keterangan"]
    row3 = next(line for line in lines if line.startswith("3 "))
    assert [c.strip() for c in row3.split("|")] == [
        "3", "Pemeriksaan kelengkapan dan keabsahan persyaratan",
        "Petugas Loket Izin Tinggal (stay-permit counter officer)", "Dokumen persyaratan asli", "15 menit *",
        "Persyaratan dinyatakan lengkap",
        "diulang jika 'Persyaratan lengkap? (tidak = berkas dikembalikan untuk dilengkapi)' tidak"]
    assert lines[-1] == "* waktu diperkirakan (inferred): tidak tercantum dalam teks SOP"


def test_show_wraps_to_the_width():
    res = run("sop", "show", str(PASSPORT_SOP), "--width", "90")
    table = res.output.split("\n\n", 1)[1].splitlines()
    assert max(len(line) for line in table[:-1]) <= 90
    numbers = [line.split("|")[0].strip() for line in table[2:] if line[:1].isdigit()]
    assert numbers == [str(i) for i in range(1, 18)]


def test_sop_rows_of_a_step_with_wait_and_notes():
    rows = sop_rows(sa.load_sop(PASSPORT_SOP.with_name("paspor_baru_walkin.yaml")))
    assert rows[5] == {"No": "6", "Kegiatan": "Pengambilan foto dan sidik jari",
                       "Pelaksana": "Petugas Wawancara (interviewer)", "Kelengkapan": "",
                       "Waktu": "5 menit *", "Output": "Foto dan sidik jari terekam",
                       "Keterangan": "Tidak dapat diwakilkan."}
    assert rows[9]["Waktu"] == "tunggu 1 hari kerja *"
    assert rows[2]["Keterangan"] == "jika 'Berkas persyaratan lengkap?' tidak"
    assert format_table(rows[:1], 60).splitlines()[0] == "No | Kegiatan | Pelaksana | Kelengkapan | Waktu | Output | Keterangan"


def test_draw_writes_svg_and_png(tmp_path):
    for name in ("itas.svg", "itas.png"):
        res = run("sop", "draw", str(ITAS), "-o", str(tmp_path / name))
        assert res.exit_code == 0 and res.output == f"wrote {tmp_path / name}\n"
    from sopaudit.sop.draw import draw_sop

    sop = sa.load_sop(ITAS)
    assert (tmp_path / "itas.svg").read_text(encoding="utf-8") == draw_sop(sop)  # the flowchart in Indonesian
    draw_sop(sop, tmp_path / "expected.png")
    png = (tmp_path / "itas.png").read_bytes()
    assert png[:4] == b"\x89PNG" and png == (tmp_path / "expected.png").read_bytes()
    res = run("sop", "draw", str(ITAS), "-o", str(tmp_path / "en.svg"), "--lang", "en")
    assert res.exit_code == 0
    assert (tmp_path / "en.svg").read_text(encoding="utf-8") == draw_sop(sop, lang="en") != draw_sop(sop)


def test_draw_refuses_other_formats_and_imported_models(tmp_path):
    res = run("sop", "draw", str(ITAS), "-o", str(tmp_path / "x.gif"))
    assert res.exit_code == 2
    assert res.output == f"error: {tmp_path / 'x.gif'}: the drawing is written as .svg or .png; name the output file so\n"
    bpmn = FIXTURES / "sop_bpmn" / "signavio_links.bpmn"
    res = run("sop", "draw", str(bpmn), "-o", str(tmp_path / "x.svg"))
    assert res.exit_code == 2 and "an imported BPMN/PNML model has no SOP flow to draw" in res.output


def test_export_to_bpmn_and_pnml(tmp_path):
    sop = sa.load_sop(ITAS)
    expected = set(flow_language(sop.flow, max_repeats=None, max_len=12))
    res = run("sop", "export", str(ITAS), "--to", "bpmn", "-o", str(tmp_path / "itas.bpmn"))
    assert res.exit_code == 0 and res.output == f"wrote {tmp_path / 'itas.bpmn'}\n"
    assert net_language(sa.load_sop(tmp_path / "itas.bpmn").net, 12) == expected
    res = run("sop", "export", str(ITAS), "--to", "pnml", "-o", str(tmp_path / "itas.pnml"))
    assert res.exit_code == 0
    assert net_language(CompiledNet(*pm4py.read_pnml(str(tmp_path / "itas.pnml"))), 12) == expected


def test_export_of_an_imported_model(tmp_path):
    bpmn = FIXTURES / "sop_bpmn" / "bpmnio_gateways.bpmn"
    res = run("sop", "export", str(bpmn), "--to", "pnml", "-o", str(tmp_path / "g.pnml"))
    assert res.exit_code == 0
    assert net_language(sa.load_sop(tmp_path / "g.pnml").net, 7) == net_language(sa.load_sop(bpmn).net, 7)
    res = run("sop", "export", str(bpmn), "--to", "bpmn", "-o", str(tmp_path / "g.bpmn"))
    assert res.exit_code == 2 and "an imported model has no SOP flow to export as BPMN" in res.output
    assert not (tmp_path / "g.bpmn").exists()
