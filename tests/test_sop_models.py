"""The shipped reference models: what each says about its service, and that each audits the cases
its own flow allows as conforming, ending where the flow ends."""

from __future__ import annotations

import pytest

import sopaudit as sa
from sopaudit.sop.language import flow_language
from sopaudit.sop.model import Duration, StepRef, walk

from conftest import PASSPORT_SOP, make_log

MODELS = PASSPORT_SOP.parent


def order(sop) -> list[str]:
    """The steps of the main line (the longest trace that ends normally, loops done once)."""
    lang = flow_language(sop.flow, max_repeats=0)
    return list(max((t for t, ends in lang.items() if "complete" in ends), key=len))


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.glob("*.yaml")))
def test_each_model_audits_its_own_traces_as_conforming(name):
    sop = sa.load_sop(MODELS / name)
    lang = flow_language(sop.flow, max_repeats=1)
    cases = {f"c{i:03d}": list(t) for i, t in enumerate(sorted(lang))}
    result = sa.audit(make_log(cases), sop, processes=1, open_days=0)
    assert result.metrics["conforming_cases"] == len(cases)
    ends = result.cases.set_index("case_id")["end_reached"].to_dict()
    assert all(ends[c] in lang[tuple(steps)] for c, steps in cases.items())


def test_walk_in_passport_pays_after_the_interview():
    online = order(sa.load_sop(MODELS / "paspor_baru_mpaspor.yaml"))
    walk_in = order(sa.load_sop(MODELS / "paspor_baru_walkin.yaml"))
    assert online.index("pembayaran") < online.index("kedatangan") < online.index("wawancara")
    assert walk_in.index("wawancara") < walk_in.index("pembayaran") < walk_in.index("verifikasi_pembayaran")
    sop = sa.load_sop(MODELS / "paspor_baru_walkin.yaml")
    std = sop.service_standards[0]
    assert (std.limit, std.from_step, std.to_step) == (Duration(4, "working_days"), "wawancara", "laminasi")
    assert std.pauses == (("wawancara", "pembayaran"),)
    # incomplete documents: returned and the application withdrawn (a legitimate end)
    lang = flow_language(sop.flow, max_repeats=0)
    assert lang[("kedatangan", "pemeriksaan_berkas", "pengembalian_berkas")] == frozenset({"berkas_tidak_lengkap"})


def test_lost_or_damaged_passport_starts_with_bap_and_the_heads_decision():
    sop = sa.load_sop(MODELS / "paspor_pengganti_hilang_rusak.yaml")
    line = order(sop)
    assert line[:3] == ["kedatangan", "pemeriksaan_bap", "keputusan_kepala_kantor"]
    assert line.index("keputusan_kepala_kantor") < line.index("pemeriksaan_berkas")
    assert sop.step("pemeriksaan_bap").roles == ("petugas_penindakan",)
    assert sop.step("keputusan_kepala_kantor").roles == ("kepala_kantor",)
    # about 2 working days for BAP and decision; no 4-day end-to-end standard
    assert [(s.limit, s.from_step, s.to_step, s.start_at) for s in sop.service_standards] == [
        (Duration(2, "working_days"), "pemeriksaan_bap", "keputusan_kepala_kantor", "start")]
    assert "does not apply" in sop.header.notes
    lang = flow_language(sop.flow, max_repeats=0)
    assert lang[("kedatangan", "pemeriksaan_bap", "keputusan_kepala_kantor", "penolakan")] == \
        frozenset({"ditolak_kepala_kantor"})


def test_itas_is_issued_within_4_working_days_of_complete_requirements():
    sop = sa.load_sop(MODELS / "izin_tinggal_itas.yaml")
    std = sop.service_standards[0]
    assert (std.limit, std.from_step, std.to_step) == (Duration(4, "working_days"), "pemeriksaan_berkas",
                                                       "penerbitan_itas")
    assert std.pauses == (("pengembalian_berkas", "pemeriksaan_berkas"),)
    assert sop.header.legal_basis[0] == "Undang-Undang Nomor 6 Tahun 2011 tentang Keimigrasian"
    # the interview is held only when needed
    assert "wawancara" in {n.step for n in walk(sop.flow) if isinstance(n, StepRef)}
    lang = flow_language(sop.flow, max_repeats=0)
    assert ("permohonan_daring", "pembayaran", "pemeriksaan_berkas", "foto_sidik_jari", "persetujuan",
            "penerbitan_itas", "penyerahan") in lang
    # returned documents come back completed (checked again) or the guarantor withdraws; they
    # never go on to the biometrics as if they had been complete
    start = ("permohonan_daring", "pembayaran", "pemeriksaan_berkas", "pengembalian_berkas")
    lang = flow_language(sop.flow, max_repeats=1)
    assert lang[start] == frozenset({"permohonan_ditarik"})
    assert start + ("pemeriksaan_berkas", "foto_sidik_jari", "persetujuan", "penerbitan_itas", "penyerahan") in lang
    assert start + ("foto_sidik_jari", "persetujuan", "penerbitan_itas", "penyerahan") not in lang


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.glob("*.yaml")))
def test_inferred_time_standards_are_marked(name):
    sop = sa.load_sop(MODELS / name)
    timed = [s for s in sop.steps if s.time.duration or s.time.wait]
    assert timed and all(s.time.inferred for s in timed)
    assert "inferred" in sop.header.notes
