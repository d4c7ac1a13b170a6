"""Exact late_step and late_case findings and time statistics on small hand-made logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sopaudit import load_sop
from sopaudit.auditing import run as audit_mod
from sopaudit.calendar import WorkingCalendar
from sopaudit.conform.labels import map_activities
from sopaudit.standards.ordered import FINDING_COLUMNS
from sopaudit.standards.timing import (
    CASE_SERVICE_COLUMNS,
    STEP_STATS_COLUMNS,
    check_service_standard,
    check_step_times,
)

WIB = "Asia/Jakarta"
CAL = WorkingCalendar()  # WIB, 08:00-16:00, cuti bersama are days off
OPEN_ON_CUTI = WorkingCalendar(cuti_bersama_working=True)

CASE, ACT, TIME, START, RES = ("case:concept:name", "concept:name", "time:timestamp",
                               "start_timestamp", "org:resource")

TIME_SOP = """
sop: {code: TEST-TIME, title: Time standards test}
roles:
  - {id: clerk, name: Clerk}
  - {id: head, name: Head}
steps:
  - {id: terima, name: Terima berkas, role: clerk, time: {duration: 2 hours}}
  - {id: periksa, name: Periksa berkas, role: clerk, time: {wait: 30 min, inferred: true}}
  - {id: kembalikan, name: Berkas dikembalikan, role: clerk}
  - {id: lengkapi, name: Berkas dilengkapi, role: clerk}
  - {id: setuju, name: Persetujuan, role: head, time: {wait: 2 days}}
  - {id: selesai, name: Selesai, role: clerk}
flow:
  - terima
  - periksa
  - optional: [kembalikan, lengkapi]
  - setuju
  - selesai
service_standard:
  - limit: 3 working days
    from: terima
    to: selesai
    start_at: start
    pauses: [{from: kembalikan, to: lengkapi}]
  - limit: 4 hours
    from: terima
    to: periksa
"""


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=WIB)


def mapped(rows, sop, attrs: dict | None = None) -> pd.DataFrame:
    """The audit's mapped log from (case, step, end, start or None, resource or None) rows."""
    frame = pd.DataFrame({
        CASE: [r[0] for r in rows],
        ACT: [r[1] for r in rows],
        TIME: pd.Series([t(r[2]) for r in rows], dtype=f"datetime64[ns, {WIB}]"),
        START: pd.Series([t(r[3]) if r[3] else pd.NaT for r in rows], dtype=f"datetime64[ns, {WIB}]"),
        RES: pd.array([r[4] if len(r) > 4 else "x" for r in rows], dtype="string"),
    })
    for name, per_case in (attrs or {}).items():
        frame[name] = frame[CASE].map(per_case)
    events = map_activities(frame, sop)
    events = events.sort_values([CASE, TIME, "sopaudit:row"], kind="mergesort").reset_index(drop=True)
    events[CASE] = events[CASE].astype("string")
    events["sopaudit:pos"] = events.groupby(CASE, sort=False).cumcount()
    return events


def brief(findings: pd.DataFrame) -> list[tuple]:
    return [(r.case_id, r.kind, r.step, r.detail_code, r.measured, r.limit, r.unit, r.event_row)
            for r in findings.itertuples()]


@pytest.fixture(scope="module")
def time_sop(tmp_path_factory):
    path = tmp_path_factory.mktemp("sop") / "time_sop.yaml"
    path.write_text(TIME_SOP, encoding="utf-8")
    return load_sop(path)


def test_finding_columns_are_the_audit_deviation_columns():
    assert FINDING_COLUMNS == audit_mod.DEVIATION_COLUMNS


# ------------------------------------------------------------------ step durations and waits


@pytest.fixture(scope="module")
def durations(passport_sop):
    rows = [
        # D1: document check 32 min (late), supervisor 10 min (exactly the limit), photo 15:55 to
        # 16:10 the same day: clock time 15 min, although only 5 of them are office hours.
        ("D1", "PERIKSA_BERKAS", "2024-03-04 09:32", "2024-03-04 09:00"),
        ("D1", "verifikasi_penyelia", "2024-03-04 09:45", "2024-03-04 09:35"),
        ("D1", "foto_sidik_jari", "2024-03-04 16:10", "2024-03-04 15:55"),
        # D2: interview from Friday 15:50 to Wednesday 08:10 across Nyepi (Mon 11 March, public)
        # and its cuti bersama (Tue 12 March): 10 + 10 office minutes.
        ("D2", "pemeriksaan_berkas", "2024-03-08 14:10", "2024-03-08 14:00"),
        ("D2", "wawancara", "2024-03-13 08:10", "2024-03-08 15:50"),
        # D3: document check 12 min; the interview's end is recorded before its start (data error).
        ("D3", "pemeriksaan_berkas", "2024-03-05 10:12", "2024-03-05 10:00"),
        ("D3", "wawancara", "2024-03-05 10:30", "2024-03-05 10:40"),
        # D4: document check 15 min; photo without a start time (not measurable).
        ("D4", "pemeriksaan_berkas", "2024-03-05 11:15", "2024-03-05 11:00"),
        ("D4", "foto_sidik_jari", "2024-03-05 11:30", None),
    ]
    return mapped(rows, passport_sop)


def test_late_durations_exact(durations, passport_sop):
    findings, _ = check_step_times(durations, passport_sop, CAL)
    assert brief(findings) == [
        ("D1", "late_step", "pemeriksaan_berkas", "late_duration", 32.0, 15.0, "minutes", 1),
        ("D1", "late_step", "foto_sidik_jari", "late_duration", 15.0, 5.0, "minutes", 3),
        ("D2", "late_step", "wawancara", "late_duration", 20.0, 15.0, "minutes", 5),
    ]
    first = findings.iloc[0]
    assert first["detail"] == "took 32 minutes from start to end; the SOP allows 15 minutes"
    assert first["step_name"] == "Pemeriksaan kelengkapan berkas, pemindaian dan perekaman data"
    assert first["event_time"] == t("2024-03-04 09:32") and first["event_pos"] == 0
    assert first["resource"] == "x" and first["evidence_rows"] == ""
    assert not first["accepted"] and first["accepted_reason"] == "" and pd.isna(first["variant_id"])
    assert list(findings.columns) == FINDING_COLUMNS


def test_duration_statistics_exact(durations, passport_sop):
    _, stats = check_step_times(durations, passport_sop, CAL)
    assert list(stats.columns) == STEP_STATS_COLUMNS
    # Steps with a standard, in SOP order: four durations, then the two waits.
    assert list(zip(stats["step"], stats["measure"], strict=True)) == [
        ("pemeriksaan_berkas", "duration"), ("verifikasi_penyelia", "duration"),
        ("foto_sidik_jari", "duration"), ("wawancara", "duration"),
        ("adjudikasi", "wait"), ("persetujuan", "wait"),
    ]
    berkas = stats.iloc[0]
    # Durations 32, 10, 12, 15 minutes: median 13.5; p90 = 15 + 0.7 * (32 - 15) = 26.9.
    assert (berkas["events"], berkas["n"], berkas["n_invalid"], berkas["n_late"]) == (4, 4, 0, 1)
    assert berkas["median"] == 13.5 and berkas["p90"] == pytest.approx(26.9)
    assert berkas["share_within"] == 0.75
    assert (berkas["limit"], berkas["unit"], bool(berkas["inferred"])) == (15.0, "minutes", True)
    foto = stats.iloc[2]
    assert (foto["events"], foto["n"], foto["n_late"], foto["share_within"]) == (2, 1, 1, 0.0)
    wawancara = stats.iloc[3]
    assert (wawancara["events"], wawancara["n"], wawancara["n_invalid"], wawancara["median"]) == (2, 1, 1, 20.0)
    adjudikasi = stats.iloc[4]
    assert adjudikasi["n"] == 0 and np.isnan(adjudikasi["median"]) and np.isnan(adjudikasi["share_within"])


@pytest.fixture(scope="module")
def waits(passport_sop):
    rows = [
        # W1: adjudication 2 working days after the payment check (late); approval 1 day later.
        ("W1", "verifikasi_pembayaran", "2024-03-04 10:00", None),
        ("W1", "adjudikasi", "2024-03-06 09:00", None),
        ("W1", "persetujuan", "2024-03-07 15:00", None),
        # W2: across Idul Fitri 2024: Friday 5 April to Tuesday 16 April is 1 working day when
        # the cuti bersama (8, 9, 12, 15 April) are days off, 5 when the office works on them.
        ("W2", "verifikasi_pembayaran", "2024-04-05 10:00", None),
        ("W2", "adjudikasi", "2024-04-16 09:00", None),
        # W3: the wait ends at the start (Tuesday), not the end (Thursday) of the adjudication.
        ("W3", "verifikasi_pembayaran", "2024-03-04 10:00", None),
        ("W3", "adjudikasi", "2024-03-07 09:00", "2024-03-05 09:00"),
        # W4: an unexpected activity before the approval; the wait counts from it.
        ("W4", "adjudikasi", "2024-03-04 10:00", None),
        ("W4", "titip_berkas", "2024-03-05 10:00", None),
        ("W4", "persetujuan", "2024-03-07 10:00", None),
        # W5: a case starting with a step that has a wait standard: no previous event, no wait.
        ("W5", "adjudikasi", "2024-03-20 10:00", None),
    ]
    return mapped(rows, passport_sop)


def test_late_waits_exact(waits, passport_sop):
    findings, stats = check_step_times(waits, passport_sop, CAL)
    assert brief(findings) == [
        ("W1", "late_step", "adjudikasi", "late_wait", 2.0, 1.0, "working_days", 2),
        ("W4", "late_step", "persetujuan", "late_wait", 2.0, 1.0, "working_days", 10),
    ]
    w1 = findings.iloc[0]
    assert w1["related"] == "verifikasi_pembayaran" and w1["evidence_rows"] == "1"
    assert w1["detail"] == (
        "waited 2 working days after 'verifikasi_pembayaran' (row 1); the SOP allows 1 working day"
    )
    assert findings.iloc[1]["related"] == "titip_berkas"
    adj = stats.set_index(["step", "measure"]).loc[("adjudikasi", "wait")]
    # Waits measured: W1 2, W2 1, W3 1 (W5 has none): median 1, p90 1.8, 2 of 3 within.
    assert (adj["events"], adj["n"], adj["n_late"]) == (5, 3, 1)
    assert adj["median"] == 1.0 and adj["p90"] == pytest.approx(1.8)
    assert adj["share_within"] == pytest.approx(2 / 3)


def test_wait_across_idul_fitri_when_the_office_works_on_cuti_bersama(waits, passport_sop):
    findings, _ = check_step_times(waits, passport_sop, OPEN_ON_CUTI)
    assert brief(findings) == [
        ("W1", "late_step", "adjudikasi", "late_wait", 2.0, 1.0, "working_days", 2),
        ("W2", "late_step", "adjudikasi", "late_wait", 5.0, 1.0, "working_days", 5),
        ("W4", "late_step", "persetujuan", "late_wait", 2.0, 1.0, "working_days", 10),
    ]


def test_hours_minutes_and_calendar_days(time_sop):
    rows = [
        # H1: intake 08:00-10:30 = 2.5 hours (limit 2); the check ends 15:50 the same day, a
        # wait of 320 clock minutes (limit 30); approval Friday -> Monday = 3 calendar days
        # (limit 2).
        ("H1", "terima", "2024-03-04 10:30", "2024-03-04 08:00"),
        ("H1", "periksa", "2024-03-04 15:50", None),
        ("H1", "kembalikan", "2024-03-05 08:25", None),
        ("H1", "lengkapi", "2024-03-08 09:00", None),
        ("H1", "setuju", "2024-03-11 09:00", None),
        # H2: exactly at every limit: 2 hours, 30 minutes, 2 calendar days.
        ("H2", "terima", "2024-03-04 10:00", "2024-03-04 08:00"),
        ("H2", "periksa", "2024-03-04 10:30", None),
        ("H2", "setuju", "2024-03-06 10:30", None),
    ]
    findings, stats = check_step_times(mapped(rows, time_sop), time_sop, CAL)
    assert brief(findings) == [
        ("H1", "late_step", "terima", "late_duration", 2.5, 2.0, "hours", 1),
        ("H1", "late_step", "periksa", "late_wait", 320.0, 30.0, "minutes", 2),
        ("H1", "late_step", "setuju", "late_wait", 3.0, 2.0, "days", 5),
    ]
    assert findings.iloc[2]["detail"] == "waited 3 days after 'lengkapi' (row 4); the SOP allows 2 days"
    periksa = stats.set_index(["step", "measure"]).loc[("periksa", "wait")]
    assert (periksa["n"], periksa["median"], bool(periksa["inferred"])) == (2, 175.0, True)


def test_wait_in_minutes_across_the_night_counts_office_time_only(time_sop):
    rows = [
        ("N1", "terima", "2024-03-04 15:50", None),
        ("N1", "periksa", "2024-03-05 08:25", None),  # 10 + 25 office minutes
        ("N2", "terima", "2024-03-04 15:50", None),
        ("N2", "periksa", "2024-03-05 08:15", None),  # 10 + 15: within 30
        ("N3", "terima", "2024-03-04 16:20", None),
        ("N3", "periksa", "2024-03-04 16:55", None),  # same day after closing: 35 clock minutes
    ]
    findings, _ = check_step_times(mapped(rows, time_sop), time_sop, CAL)
    assert brief(findings) == [
        ("N1", "late_step", "periksa", "late_wait", 35.0, 30.0, "minutes", 2),
        ("N3", "late_step", "periksa", "late_wait", 35.0, 30.0, "minutes", 6),
    ]


def test_overlapping_events_wait_zero_and_unsorted_input_is_sorted_without_modifying_it(time_sop):
    rows = [
        # O1: the check ends (10:55) before the intake (11:00): sorted by time it comes first.
        ("O1", "terima", "2024-03-04 11:00", "2024-03-04 08:00"),  # 3 hours: late
        ("O1", "periksa", "2024-03-04 10:55", "2024-03-04 10:00"),
        # O2: the check starts (10:00) before the intake ends (11:00): it waited 0, not -1 hour.
        ("O2", "terima", "2024-03-04 11:00", "2024-03-04 08:00"),
        ("O2", "periksa", "2024-03-04 11:30", "2024-03-04 10:00"),
    ]
    shuffled = mapped(rows, time_sop).iloc[::-1].drop(columns="sopaudit:pos")
    before = shuffled.copy()
    findings, stats = check_step_times(shuffled, time_sop, CAL)
    pd.testing.assert_frame_equal(shuffled, before)
    assert brief(findings) == [
        ("O1", "late_step", "terima", "late_duration", 3.0, 2.0, "hours", 1),
        ("O2", "late_step", "terima", "late_duration", 3.0, 2.0, "hours", 3),
    ]
    assert findings["event_pos"].tolist() == [1, 0]
    wait = stats.set_index(["step", "measure"]).loc[("periksa", "wait")]
    assert (wait["events"], wait["n"], wait["median"], wait["n_late"]) == (2, 1, 0.0, 0)


def test_non_wib_time_zone_decides_the_working_day(passport_sop):
    # The same UTC instants fall on other local dates in WITA (UTC+8) than in WIB (UTC+7):
    # 2024-03-06 16:30 UTC is Wednesday 23:30 WIB but Thursday 00:30 WITA.
    utc = "UTC"
    frame = pd.DataFrame({
        CASE: ["Z", "Z", "Z"],
        ACT: ["verifikasi_pembayaran", "adjudikasi", "persetujuan"],
        TIME: pd.to_datetime(["2024-03-06 16:30", "2024-03-08 16:30", "2024-03-13 01:00"]).tz_localize(utc),
    })
    events = map_activities(frame, passport_sop)
    events["sopaudit:pos"] = [0, 1, 2]
    wib, _ = check_step_times(events, passport_sop, WorkingCalendar(tz="WIB"))
    wita, _ = check_step_times(events, passport_sop, WorkingCalendar(tz="WITA"))
    # WIB: Wed 6 -> Fri 8 March = 2 (late); Fri 8 -> Wed 13 March = 1 (Mon Nyepi, Tue cuti).
    assert brief(wib) == [("Z", "late_step", "adjudikasi", "late_wait", 2.0, 1.0, "working_days", 2)]
    # WITA: Thu 7 -> Sat 9 March = 1 (Friday); Sat 9 -> Wed 13 March = 1.
    assert brief(wita) == []
    assert wita.empty and list(wita.columns) == FINDING_COLUMNS


# ------------------------------------------------------------------ the service standard


@pytest.fixture(scope="module")
def service(passport_sop):
    rows = [
        # S1 reguler: interview Mon 4 March, ready Fri 8 March = 4 working days (the limit).
        ("S1", "wawancara", "2024-03-04 10:00", None),
        ("S1", "laminasi", "2024-03-08 14:00", None),
        # S2 reguler: ready Wed 13 March = 5 (Mon 11 Nyepi and Tue 12 cuti bersama are off).
        ("S2", "wawancara", "2024-03-04 10:00", None),
        ("S2", "laminasi", "2024-03-13 09:00", "2024-03-13 08:30"),
        ("S2", "penyerahan", "2024-03-14 09:00", None),
        # S3 reguler across Idul Fitri 2024: Thu 4 April -> Wed 17 April = 3 (5, 16, 17 April).
        ("S3", "wawancara", "2024-04-04 10:00", None),
        ("S3", "laminasi", "2024-04-17 10:00", None),
        # S4 reguler across Idul Fitri 2025: Wed 26 March -> Wed 9 April = 3 (27 March, 8, 9 April).
        ("S4", "wawancara", "2025-03-26 10:00", None),
        ("S4", "laminasi", "2025-04-09 10:00", None),
        # S5 percepatan (0 working days = the same day), done the same afternoon.
        ("S5", "wawancara", "2024-03-04 09:00", None),
        ("S5", "laminasi", "2024-03-04 15:00", None),
        # S6 percepatan finished the next morning: 1 > 0. The type is written with a space.
        ("S6", "wawancara", "2024-03-04 09:00", None),
        ("S6", "laminasi", "2024-03-05 08:30", None),
        # S7 never reached laminasi (still open or rejected): not measurable, not late.
        ("S7", "wawancara", "2024-03-04 09:00", None),
        # S8 interviewed twice and laminated twice: first interview to last lamination = 5.
        ("S8", "wawancara", "2024-03-04 09:00", None),
        ("S8", "wawancara", "2024-03-05 09:00", None),
        ("S8", "laminasi", "2024-03-07 09:00", None),
        ("S8", "laminasi", "2024-03-13 09:00", None),
    ]
    types = {c: "reguler" for c in ("S1", "S2", "S3", "S4", "S7", "S8")}
    types.update({"S5": "percepatan", "S6": "percepatan "})
    return mapped(rows, passport_sop, attrs={"jenis_layanan": types})


def test_late_case_exact(service, passport_sop):
    findings, _ = check_service_standard(service, passport_sop, CAL)
    assert brief(findings) == [
        ("S2", "late_case", "laminasi", "late_case", 5.0, 4.0, "working_days", 4),
        ("S6", "late_case", "laminasi", "late_case", 1.0, 0.0, "working_days", 13),
        ("S8", "late_case", "laminasi", "late_case", 5.0, 4.0, "working_days", 18),
    ]
    s2 = findings.iloc[0]
    assert s2["detail"] == (
        "5 working days from 'Wawancara' to 'Laminasi dan pemeriksaan akhir'; the service "
        "standard allows 4 working days (jenis_layanan = reguler)"
    )
    assert s2["related"] == "wawancara" and s2["evidence_rows"] == "3"
    assert s2["event_time"] == t("2024-03-13 09:00") and s2["event_pos"] == 1
    assert findings.iloc[1]["detail"].endswith("allows 0 working days (jenis_layanan = percepatan)")
    assert findings.iloc[2]["evidence_rows"] == "15"  # the first interview


def test_case_service_table_exact(service, passport_sop):
    _, table = check_service_standard(service, passport_sop, CAL)
    assert list(table.columns) == CASE_SERVICE_COLUMNS
    assert list(table["case_id"]) == [f"S{i}" for i in range(1, 9)]
    assert set(table["standard"]) == {"wawancara->laminasi"}
    assert table["service_days"].tolist()[:6] == [4.0, 5.0, 3.0, 3.0, 0.0, 1.0]
    assert np.isnan(table["service_days"].iloc[6]) and table["service_days"].iloc[7] == 5.0
    assert table["service_limit_days"].tolist() == [4.0, 4.0, 4.0, 4.0, 0.0, 0.0, 4.0, 4.0]
    assert table["within_service_standard"].tolist() == [True, False, True, True, True, False, pd.NA, False]
    assert str(table["within_service_standard"].dtype) == "boolean"
    assert table["service_from_time"].iloc[1] == t("2024-03-04 10:00")
    assert table["service_to_time"].iloc[1] == t("2024-03-13 09:00")  # the end, not the start
    assert pd.isna(table["service_to_time"].iloc[6])
    assert (table["service_unit"] == "working_days").all()


def test_service_standard_across_idul_fitri_with_cuti_bersama_worked(service, passport_sop):
    findings, table = check_service_standard(service, passport_sop, OPEN_ON_CUTI)
    # S2 6 (Tue 12 March is worked), S3 7 (5, 8, 9, 12, 15, 16, 17 April),
    # S4 8 (27, 28 March, 2, 3, 4, 7, 8, 9 April), S8 6.
    assert table["service_days"].tolist()[:4] == [4.0, 6.0, 7.0, 8.0]
    assert [(r.case_id, r.measured) for r in findings.itertuples()] == [
        ("S2", 6.0), ("S3", 7.0), ("S4", 8.0), ("S6", 1.0), ("S8", 6.0)]


def test_service_standard_without_the_type_column_uses_the_default_limit(service, passport_sop, caplog):
    findings, table = check_service_standard(service.drop(columns="jenis_layanan"), passport_sop, CAL)
    assert (table["service_limit_days"] == 4.0).all()
    assert [r.case_id for r in findings.itertuples()] == ["S2", "S8"]
    assert "has no column 'jenis_layanan'" in caplog.text


def test_pauses_start_at_and_an_hours_standard(time_sop):
    rows = [
        # P1: clock starts at the START of the intake (Friday 1 March 15:00, start_at: start);
        # documents returned Monday 10:00 and completed Thursday 09:00 (pause: 5, 6, 7 March);
        # done Wednesday 13 March: 4, 5, 6, 7, 8, 13 March = 6 working days - 3 paused = 3.
        ("P1", "terima", "2024-03-04 08:30", "2024-03-01 15:00"),
        ("P1", "periksa", "2024-03-04 09:00", None),
        ("P1", "kembalikan", "2024-03-04 10:00", None),
        ("P1", "lengkapi", "2024-03-07 09:00", None),
        ("P1", "setuju", "2024-03-07 10:00", None),
        ("P1", "selesai", "2024-03-13 10:00", None),
        # P2: two pauses (Tue 5 -> Wed 6, Thu 7 -> Wed 13 March) and an unclosed third return
        # that does not count.
        ("P2", "terima", "2024-03-04 08:30", "2024-03-04 08:00"),
        ("P2", "periksa", "2024-03-04 09:00", None),
        ("P2", "kembalikan", "2024-03-05 10:00", None),
        ("P2", "lengkapi", "2024-03-06 10:00", None),
        ("P2", "kembalikan", "2024-03-07 10:00", None),
        ("P2", "lengkapi", "2024-03-13 10:00", None),
        ("P2", "kembalikan", "2024-03-14 10:00", None),
        ("P2", "setuju", "2024-03-15 09:00", None),
        ("P2", "selesai", "2024-03-19 10:00", None),
        # H3: intake ends Friday 15:00, check ends Monday 11:30: 1 + 3.5 office hours (limit 4).
        ("H3", "terima", "2024-03-01 15:00", None),
        ("H3", "periksa", "2024-03-04 11:30", None),
        # H4: intake ends 14:00, check ends 18:30 the same day: 4.5 clock hours.
        ("H4", "terima", "2024-03-05 14:00", None),
        ("H4", "periksa", "2024-03-05 18:30", None),
    ]
    findings, table = check_service_standard(mapped(rows, time_sop), time_sop, CAL)
    days = table[table["standard"] == "terima->selesai"].set_index("case_id")
    assert days.loc["P1", "service_from_time"] == t("2024-03-01 15:00")
    assert (days.loc["P1", "service_days"], days.loc["P1", "service_pause_days"]) == (3.0, 3.0)
    # P2: 4 -> 19 March = 5, 6, 7, 8, 13, 14, 15, 18, 19 = 9; paused 6 (1) + 8, 13 (2) = 3.
    assert (days.loc["P2", "service_days"], days.loc["P2", "service_pause_days"]) == (6.0, 3.0)
    hours = table[table["standard"] == "terima->periksa"].set_index("case_id")
    assert hours["service_days"].to_dict() == {"H3": 4.5, "H4": 4.5, "P1": 0.5, "P2": 0.5}
    assert (hours["service_unit"] == "hours").all()
    assert brief(findings) == [
        ("H3", "late_case", "periksa", "late_case", 4.5, 4.0, "hours", 17),
        ("H4", "late_case", "periksa", "late_case", 4.5, 4.0, "hours", 19),
        ("P2", "late_case", "selesai", "late_case", 6.0, 3.0, "working_days", 15),
    ]
    assert findings.iloc[2]["detail"] == (
        "6 working days from 'Terima berkas' to 'Selesai'; the service standard allows "
        "3 working days; 3 working days of pauses not counted"
    )


def test_sop_without_service_standard_gives_empty_tables(mini_sop):
    events = mapped([("A", "a", "2024-03-04 09:00", None)], mini_sop)
    findings, table = check_service_standard(events, mini_sop, CAL)
    assert findings.empty and list(findings.columns) == FINDING_COLUMNS
    assert table.empty and list(table.columns) == CASE_SERVICE_COLUMNS
    findings, stats = check_step_times(events, mini_sop, CAL)
    assert findings.empty and stats.empty and list(stats.columns) == STEP_STATS_COLUMNS


def test_overlapping_pauses_merge_and_reversed_steps_are_not_measurable(time_sop):
    rows = [
        # Q1: documents returned Tuesday and again Wednesday, completed Friday: one pause of
        # 3 working days (6, 7, 8 March), not 3 + 2. Done Friday 15 March: 5, 6, 7, 8, 13, 14,
        # 15 March (11 and 12 are Nyepi and its cuti bersama) = 7, minus 3 = 4 > 3.
        ("Q1", "terima", "2024-03-04 08:30", "2024-03-04 08:00"),
        ("Q1", "kembalikan", "2024-03-05 09:00", None),
        ("Q1", "kembalikan", "2024-03-06 09:00", None),
        ("Q1", "lengkapi", "2024-03-08 09:00", None),
        ("Q1", "selesai", "2024-03-15 09:00", None),
        # Q2: "selesai" recorded before "terima": not measurable, never late.
        ("Q2", "selesai", "2024-03-04 09:00", None),
        ("Q2", "terima", "2024-03-20 09:00", None),
    ]
    findings, table = check_service_standard(mapped(rows, time_sop), time_sop, CAL)
    days = table[table["standard"] == "terima->selesai"].set_index("case_id")
    assert (days.loc["Q1", "service_days"], days.loc["Q1", "service_pause_days"]) == (4.0, 3.0)
    assert pd.isna(days.loc["Q2", "service_days"]) and pd.isna(days.loc["Q2", "within_service_standard"])
    assert days.loc["Q2", "service_to_time"] == t("2024-03-04 09:00")  # shown, so it can be checked
    assert brief(findings) == [("Q1", "late_case", "selesai", "late_case", 4.0, 3.0, "working_days", 5)]


# ------------------------------------------------------------------ against a plain reference


def _reference_measure(s: pd.Timestamp, e: pd.Timestamp, unit: str, cal: WorkingCalendar) -> float:
    """One pair, the obvious way: what the vectorised code must reproduce."""
    if unit == "working_days":
        return float(cal.working_days_between(s, e))
    ls, le = s.tz_convert(cal.tz), e.tz_convert(cal.tz)
    if unit == "days":
        return float((le.date() - ls.date()).days)
    hours = (e - s).total_seconds() / 3600 if ls.date() == le.date() else cal.working_hours_between(s, e)
    return round(hours * (60 if unit == "minutes" else 1), 6)


def _random_log(sop, n_cases: int, seed: int, framed: bool = False) -> pd.DataFrame:
    """Random cases; `framed` ones start with the first step and mostly end with the last."""
    rng = np.random.default_rng(seed)
    labels = list(sop.step_ids) + ["tidak_dikenal"]
    rows = []
    for c in range(n_cases):
        now = pd.Timestamp("2024-03-25 07:30", tz=WIB) + pd.Timedelta(days=int(rng.integers(0, 30)))
        acts = [str(a) for a in rng.choice(labels if not framed else labels[1:-2] + labels[-1:],
                                            int(rng.integers(1, 9)))]
        if framed:
            acts = [labels[0], *acts] + ([labels[-2]] if rng.random() < 0.8 else [])
        for act in acts:
            now += pd.Timedelta(minutes=int(rng.choice([5, 20, 45, 200, 900, 2000, 5000])))
            start = None
            if rng.random() < 0.5:
                start = now - pd.Timedelta(minutes=int(rng.integers(-20, 200)))
            rows.append((f"C{c:03d}", act, str(now.tz_localize(None)),
                         str(start.tz_localize(None)) if start is not None else None))
    return mapped(rows, sop)


def test_step_times_match_a_plain_per_event_reference(time_sop):
    events = _random_log(time_sop, 150, seed=3)
    findings, _ = check_step_times(events, time_sop, CAL)
    expected = []
    steps = {s.id: s for s in time_sop.steps}
    for _, case in events.groupby(CASE, sort=True):
        prev = None
        for ev in case.to_dict(orient="records"):
            step, start, end = steps.get(ev[ACT]), ev[START], ev[TIME]
            key = (ev[CASE], ev[ACT])
            if step is not None and step.time.duration is not None and pd.notna(start):
                d = step.time.duration
                v = _reference_measure(start, end, d.unit, CAL)
                if v >= 0 and v > d.value:
                    expected.append((*key, "late_duration", v, d.unit, ev["sopaudit:row"]))
            if step is not None and step.time.wait is not None and prev is not None:
                w = step.time.wait
                v = max(_reference_measure(prev, start if pd.notna(start) else end, w.unit, CAL), 0.0)
                if v > w.value:
                    expected.append((*key, "late_wait", v, w.unit, ev["sopaudit:row"]))
            prev = end
    got = [(r.case_id, r.step, r.detail_code, r.measured, r.unit, r.event_row) for r in findings.itertuples()]
    assert sorted(got) == sorted(expected)
    assert len(expected) > 20  # the random log does exercise every kind of late step


def test_service_standard_matches_a_plain_per_case_reference(time_sop):
    events = _random_log(time_sop, 200, seed=5, framed=True)
    _, table = check_service_standard(events, time_sop, CAL)
    # The random log does exercise pauses, both units and late cases.
    assert (table["service_pause_days"] > 0).sum() >= 15
    assert (table["within_service_standard"] == False).groupby(table["standard"]).sum().min() >= 10  # noqa: E712
    for std in time_sop.service_standards:
        label = f"{std.from_step}->{std.to_step}"
        got = table[table["standard"] == label].set_index("case_id")["service_days"]
        for case_id, case in events.groupby(CASE, sort=True):
            acts = case[ACT].tolist()
            ends, starts = case[TIME].tolist(), case[START].tolist()
            if std.from_step not in acts or std.to_step not in acts:
                assert np.isnan(got[case_id])
                continue
            i = acts.index(std.from_step)
            j = len(acts) - 1 - acts[::-1].index(std.to_step)
            t0 = starts[i] if std.start_at == "start" and pd.notna(starts[i]) else ends[i]
            t1 = ends[j]
            if t1 < t0:
                assert np.isnan(got[case_id])
                continue
            spans = []
            for p_from, p_to in std.pauses:
                for a, act in enumerate(acts):
                    later = [b for b in range(a + 1, len(acts)) if acts[b] == p_to]
                    if act == p_from and later:
                        b = later[0]
                        s, e = max(ends[a], t0), min(starts[b] if pd.notna(starts[b]) else ends[b], t1)
                        if e > s:
                            spans.append((s, e))
            merged = []
            for s, e in sorted(spans):
                if merged and s <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                else:
                    merged.append((s, e))
            unit = std.limit.unit
            value = _reference_measure(t0, t1, unit, CAL) - sum(
                _reference_measure(s, e, unit, CAL) for s, e in merged)
            assert got[case_id] == pytest.approx(value, abs=1e-6), (label, case_id)
