"""SOP AP tables from Excel and Word (sopaudit sop import / export): realistic layouts made here
with openpyxl and python-docx, exact steps, roles, times and flow, the verdict on traces, located
errors for jumps that cannot be read, and the round trip of every shipped SOP."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from sopaudit.cli import main
from sopaudit.core.errors import SopAuditError
from sopaudit.sop import load_sop
from sopaudit.sop.ap_read import import_sop
from sopaudit.sop.ap_write import write_docx, write_xlsx
from sopaudit.sop.language import flow_language, mutate
from sopaudit.sop.model import Choice, Duration, End, Loop, Sequence, StepRef

from conftest import ROOT

ROLES = ["Petugas Loket", "Kasi Dokumen", "Pemohon"]
#        No, Kegiatan, marks (loket, kasi, pemohon), kelengkapan, waktu, output, keterangan
TABLE = [
    (1, "Mulai", ("", "", "⬭"), "", "", "", ""),
    (2, "Menyerahkan berkas permohonan", ("", "", "X"), "KTP-el; Kartu Keluarga", "5 menit", "Berkas", ""),
    (3, "Memeriksa kelengkapan berkas", ("√", "", ""), "Berkas", "15 menit", "Berkas diperiksa", ""),
    (4, "Berkas lengkap?", ("◇", "", ""), "", "", "", "Tidak: kembali ke No. 2"),
    (5, "Wawancara pemohon", ("v", "", ""), "", "1 jam", "BAP wawancara", ""),
    (6, "Memenuhi syarat?", ("", "◇", ""), "", "", "", "Ya: lanjut ke No. 9; Tidak: lanjut ke No. 7"),
    (7, "Penolakan permohonan", ("", "X", ""), "", "", "Surat penolakan", ""),
    (8, "Selesai (ditolak)", ("", "⬭", ""), "", "", "", ""),
    (9, "Penerbitan paspor", ("", "X", ""), "", "2 hari kerja", "Paspor", ""),
    (10, "Penyerahan paspor", ("X", "", ""), "Tanda terima", "1 x 24 jam", "Paspor diterima", ""),
    (11, "Selesai", ("⬭", "", ""), "", "", "", ""),
]
EXPECTED_FLOW = Sequence((
    Loop(Sequence((StepRef("menyerahkan_berkas_permohonan"), StepRef("memeriksa_kelengkapan_berkas"))),
         None, "Berkas lengkap?"),
    StepRef("wawancara_pemohon"),
    Choice("Memenuhi syarat?", Sequence(()), Sequence((StepRef("penolakan_permohonan"), End("ditolak", "")))),
    StepRef("penerbitan_paspor"),
    StepRef("penyerahan_paspor"),
))


def _xlsx(path: Path, table=TABLE, title_rows: bool = True) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "SOP"
    r = 1
    if title_rows:
        for key, value in (("Nomor SOP", "SOP-01/KANIM-KTP/2024"), ("Nama SOP", "Pelayanan Paspor Biasa"),
                           ("Tanggal Efektif", "02-01-2024"), ("Disahkan oleh", "Kepala Kantor")):
            ws.cell(r, 1, key)
            ws.cell(r, 2, ":")
            ws.cell(r, 3, value)
            ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=8)
            r += 1
        r += 1
    ws.cell(r, 1, "No")
    ws.merge_cells(start_row=r, start_column=1, end_row=r + 1, end_column=1)
    ws.cell(r, 2, "Kegiatan")
    ws.merge_cells(start_row=r, start_column=2, end_row=r + 1, end_column=2)
    ws.cell(r, 3, "Pelaksana")
    ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=5)
    ws.cell(r, 6, "Mutu Baku")
    ws.merge_cells(start_row=r, start_column=6, end_row=r, end_column=8)
    ws.cell(r, 9, "Keterangan")
    ws.merge_cells(start_row=r, start_column=9, end_row=r + 1, end_column=9)
    for i, role in enumerate(ROLES):
        ws.cell(r + 1, 3 + i, role)
    for i, m in enumerate(("Kelengkapan", "Waktu", "Output")):
        ws.cell(r + 1, 6 + i, m)
    for c in range(1, 10):  # the row numbering the columns
        ws.cell(r + 2, c, c)
    for k, (no, text, marks, inputs, waktu, output, notes) in enumerate(table, start=r + 3):
        ws.cell(k, 1, no)
        ws.cell(k, 2, text)
        for i, mark in enumerate(marks):
            if mark:
                ws.cell(k, 3 + i, mark)
        for i, v in enumerate((inputs, waktu, output, notes)):
            if v:
                ws.cell(k, 6 + i, v)
    wb.save(path)
    return path


def _docx(path: Path) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Nomor SOP: SOP-01/KANIM-KTP/2024")
    doc.add_paragraph("Nama SOP: Pelayanan Paspor Biasa")
    t = doc.add_table(rows=2 + len(TABLE), cols=9)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "No."
    t.cell(0, 1).merge(t.cell(1, 1)).text = "Uraian Kegiatan"
    t.cell(0, 2).merge(t.cell(0, 4)).text = "Pelaksana"
    t.cell(0, 5).merge(t.cell(0, 7)).text = "Mutu Baku"
    t.cell(0, 8).merge(t.cell(1, 8)).text = "Ket."
    for i, role in enumerate(ROLES):
        t.cell(1, 2 + i).text = role
    for i, m in enumerate(("Persyaratan/Kelengkapan", "Waktu", "Output")):
        t.cell(1, 5 + i).text = m
    for k, (no, text, marks, inputs, waktu, output, notes) in enumerate(TABLE, start=2):
        notes = {4: "jika tidak, kembali ke langkah 2", 6: "Tidak: ke No. 7, Ya: ke No. 9"}.get(no, notes)
        cells = [f"{no}.", text, *["□" if m in ("X", "v", "√") else m for m in marks], inputs, waktu, output, notes]
        for i, v in enumerate(cells):
            t.cell(k, i).text = v
    doc.save(path)
    return path


def _check(imported) -> None:
    sop = imported.sop
    assert sop.flow == EXPECTED_FLOW
    assert sop.header.code == "SOP-01/KANIM-KTP/2024"
    assert sop.header.title == "Pelayanan Paspor Biasa"
    assert [(r.id, r.name) for r in sop.roles] == [("petugas_loket", "Petugas Loket"),
                                                    ("kasi_dokumen", "Kasi Dokumen"), ("pemohon", "Pemohon")]
    steps = {s.id: s for s in sop.steps}
    assert list(steps) == ["menyerahkan_berkas_permohonan", "memeriksa_kelengkapan_berkas", "wawancara_pemohon",
                           "penolakan_permohonan", "penerbitan_paspor", "penyerahan_paspor"]
    assert steps["menyerahkan_berkas_permohonan"].roles == ("pemohon",)
    assert steps["menyerahkan_berkas_permohonan"].inputs == ("KTP-el", "Kartu Keluarga")
    assert steps["memeriksa_kelengkapan_berkas"].time.duration == Duration(15, "minutes")
    assert steps["wawancara_pemohon"].time.duration == Duration(1, "hours")
    assert steps["penerbitan_paspor"].time.duration == Duration(2, "working_days")
    assert steps["penerbitan_paspor"].roles == ("kasi_dokumen",)
    assert steps["penyerahan_paspor"].time.duration == Duration(1, "days")
    assert any("'1 x 24 jam' read as 1 day(s)" in g for g in imported.guesses)
    # the verdict on traces: what the table allows, and what it does not
    language = flow_language(sop.flow, max_repeats=2)
    a, b, w, p = "menyerahkan_berkas_permohonan", "memeriksa_kelengkapan_berkas", "wawancara_pemohon", "penerbitan_paspor"
    assert (a, b, w, p, "penyerahan_paspor") in language
    assert (a, b, a, b, w, p, "penyerahan_paspor") in language  # incomplete documents, handed in again
    assert language[(a, b, w, "penolakan_permohonan")] == frozenset({"ditolak"})
    assert (a, w, p, "penyerahan_paspor") not in language
    assert (a, b, w, "penolakan_permohonan", p, "penyerahan_paspor") not in language


def test_import_xlsx_with_title_block_merged_headings_and_marks(tmp_path) -> None:
    imported = import_sop(_xlsx(tmp_path / "sop.xlsx"))
    _check(imported)
    assert imported.sop.header.effective.isoformat() == "2024-01-02"
    assert imported.yaml.startswith("# Imported from sop.xlsx")
    assert "# guess: " in imported.yaml


def test_import_docx_with_targets_in_words(tmp_path) -> None:
    imported = import_sop(_docx(tmp_path / "sop.docx"))
    _check(imported)
    # 'jika tidak, kembali ke langkah 2' and 'Tidak: ke No. 7, Ya: ke No. 9' read as the Excel jumps
    assert imported.guesses == ["%s (table 1) row No. 10: '1 x 24 jam' read as 1 day(s)" % (tmp_path / "sop.docx")]


def test_strict_import_refuses_guesses(tmp_path) -> None:
    with pytest.raises(SopAuditError, match="1 x 24 jam"):
        import_sop(_xlsx(tmp_path / "sop.xlsx"), strict=True)


@pytest.mark.parametrize(("row", "notes", "message"), [
    (6, "Ya: lanjut ke No. 99", "No. 99, which the table does not have"),
    (6, "", "both answers lead to the same row"),
    (6, "Ya: ke No. 9; Tidak: ke No. 3", "row No. 6.*jumps back"),
])
def test_a_jump_that_cannot_be_read_stops_and_names_the_row(tmp_path, row, notes, message) -> None:
    table = [t if t[0] != row else (*t[:6], notes) for t in TABLE]
    with pytest.raises(SopAuditError, match=message):
        import_sop(_xlsx(tmp_path / "bad.xlsx", table))


def test_no_table_found_is_a_clear_error(tmp_path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(SopAuditError, match="no SOP AP table found"):
        import_sop(tmp_path / "x.xlsx")


@pytest.mark.parametrize("model", sorted((ROOT / "reference_models").glob("*.yaml")), ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_every_shipped_sop_round_trips(tmp_path, model, fmt) -> None:
    sop = load_sop(model)
    out = tmp_path / f"sop.{fmt}"
    (write_xlsx if fmt == "xlsx" else write_docx)(sop, out)
    back = import_sop(out)
    assert back.guesses == []
    assert set(back.sop.steps) == set(sop.steps)
    assert back.sop.roles == sop.roles and back.sop.header == sop.header
    assert back.sop.service_standards == sop.service_standards and back.sop.rules == sop.rules
    before = flow_language(sop.flow, max_repeats=2)
    after = flow_language(back.sop.flow, max_repeats=2)
    assert after == before
    rng = random.Random(7)
    traces = sorted(before)
    mutated = [mutate(rng.choice(traces), sop.step_ids, rng) for _ in range(200)]
    assert [t in after for t in mutated] == [t in before for t in mutated]


def test_cli_import_and_export(tmp_path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["sop", "import", str(_xlsx(tmp_path / "sop.xlsx")), "-o", str(tmp_path / "sop.yaml")])
    assert res.exit_code == 0, res.output
    assert "guess: " in res.output and "6 steps, 3 roles" in res.output
    assert load_sop(tmp_path / "sop.yaml").flow == EXPECTED_FLOW
    res = runner.invoke(main, ["sop", "export", str(tmp_path / "sop.yaml"), "--to", "docx", "-o", str(tmp_path / "x.docx")])
    assert res.exit_code == 0, res.output
    assert import_sop(tmp_path / "x.docx").sop.flow == EXPECTED_FLOW
    res = runner.invoke(main, ["sop", "import", str(_xlsx(tmp_path / "s.xlsx")), "-o", str(tmp_path / "s.yaml"), "--strict"])
    assert res.exit_code == 2 and "--strict" in res.output
