"""Role assignments file, exact wrong_role and duty_conflict findings on hand-made logs."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sopaudit.conform.labels import map_activities
from sopaudit.core.errors import InputFileError
from sopaudit.standards.ordered import FINDING_COLUMNS
from sopaudit.standards.roles import (
    ASSIGNMENT_COLUMNS,
    COVERAGE_COLUMNS,
    check_roles,
    check_separation_of_duties,
    load_role_assignments,
    role_coverage,
)

from conftest import FIXTURES

WIB = "Asia/Jakarta"
ROLES = FIXTURES / "roles"
CASE, ACT, TIME, RES = "case:concept:name", "concept:name", "time:timestamp", "org:resource"


def mapped(rows, sop) -> pd.DataFrame:
    """The audit's mapped log from (case, step, local time, officer or None) rows."""
    frame = pd.DataFrame({
        CASE: [r[0] for r in rows],
        ACT: [r[1] for r in rows],
        TIME: pd.Series([pd.Timestamp(r[2], tz=WIB) for r in rows], dtype=f"datetime64[ns, {WIB}]"),
        RES: pd.array([r[3] for r in rows], dtype="string"),
    })
    events = map_activities(frame, sop)
    events = events.sort_values([CASE, TIME, "sopaudit:row"], kind="mergesort").reset_index(drop=True)
    events[CASE] = events[CASE].astype("string")
    events["sopaudit:pos"] = events.groupby(CASE, sort=False).cumcount()
    return events


def brief(findings: pd.DataFrame) -> list[tuple]:
    return [(r.case_id, r.step, r.detail_code, r.resource, r.related, r.event_row)
            for r in findings.itertuples()]


# ------------------------------------------------------------------ the assignments file


def test_load_csv_with_indonesian_headers_day_first_dates_and_role_names(passport_sop):
    table = load_role_assignments(ROLES / "assignments.csv", passport_sop)
    assert list(table.columns) == ASSIGNMENT_COLUMNS
    assert list(zip(table["officer"], table["role"], table["line"], strict=True)) == [
        ("Agus", "bendahara", 9),
        ("Budi", "adjudikator", 6),
        ("Budi", "kasi_dokumen", 7),  # written as the role's name in the file
        ("Dewi", "kasi_dokumen", 8),  # trailing space trimmed
        ("Rina", "petugas_loket", 3),
        ("Rina", "petugas_wawancara", 4),
        ("Sari", "penyelia", 5),
        ("Tono", "petugas_cetak", 10),
        ("Tono", "petugas_penyerahan", 11),
    ]
    budi = table[table["officer"] == "Budi"]
    assert budi["valid_from"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-01")]
    assert budi["valid_to"].iloc[0] == pd.Timestamp("2024-03-31") and pd.isna(budi["valid_to"].iloc[1])
    assert table["valid_from"].isna().sum() == 5


def test_load_yaml_with_role_lists_and_nip_kept_as_text():
    table = load_role_assignments(ROLES / "assignments.yaml")
    assert list(zip(table["officer"], table["role"], table["line"], strict=True)) == [
        ("0012", "petugas_loket", 3),
        ("0012", "petugas_wawancara", 3),
        ("Budi", "adjudikator", 8),
        ("Sari", "penyelia", 4),
    ]
    sari = table[table["officer"] == "Sari"].iloc[0]
    assert (sari["valid_from"], sari["valid_to"]) == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))
    assert pd.isna(table[table["officer"] == "Budi"]["valid_to"].iloc[0])


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad_date.csv", "officer,role,valid_from\nRina,petugas_loket,32/01/2024\n",
     "bad_date.csv, line 2: valid_from '32/01/2024' is not a date; write dates as YYYY-MM-DD "
     "(2024-05-02) or DD/MM/YYYY (02/05/2024), or leave it empty"),
    ("reversed.csv", "# list\nofficer;role;valid_from;valid_to\nRina;petugas_loket;2024-05-01;2024-04-30\n",
     "reversed.csv, line 3: valid_to 2024-04-30 is before valid_from 2024-05-01; swap or correct the dates"),
    ("no_role.csv", "officer,jabatan\nRina,petugas_loket\n",
     "no_role.csv, line 1: the header must have an 'officer' and a 'role' column (found: officer, "
     "jabatan); e.g. 'officer,role,valid_from,valid_to'"),
    ("unknown.csv", "officer,role\nRina,petugas_loket\nJoko,kepala_kantor\n",
     "unknown.csv, line 3: 'kepala_kantor' is not a role of the SOP SOP-IMI-PASPOR-01; use one of: "
     "pemohon, petugas_loket, penyelia, petugas_wawancara, bendahara, adjudikator, kasi_dokumen, "
     "petugas_cetak, petugas_penyerahan"),
    ("no_officer.csv", "officer,role\n ,petugas_loket\n",
     "no_officer.csv, line 2: the officer is empty; give the officer's name or NIP"),
    ("short.csv", "officer;role\nRina\n",
     "short.csv, line 2: expected 2 ';'-separated fields, found 1; give at least an officer and a "
     "role on every row"),
    ("empty.csv", "# nothing yet\n",
     "empty.csv: the file is empty; add a header line 'officer,role,valid_from,valid_to' and one row "
     "per officer and role"),
    ("missing_role.yaml", "- {officer: Rina, role: petugas_loket}\n- {officer: Sari}\n",
     "missing_role.yaml, line 2: each assignment needs 'officer' and 'role'"),
    ("typo.yaml", "- {officer: Rina, rol: petugas_loket}\n",
     "typo.yaml, line 1: unknown key(s) rol; use officer, role, valid_from, valid_to"),
    ("notes.txt.md", "officer,role\n", "notes.txt.md: unknown role assignments file type; use .csv, .yaml or .yml"),
])
def test_bad_assignment_files_name_file_line_and_fix(tmp_path, passport_sop, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_role_assignments(path, passport_sop)
    assert str(err.value).startswith(str(path.parent) + "/")
    assert message in str(err.value)


def test_missing_assignments_file(tmp_path):
    with pytest.raises(InputFileError, match="the role assignments file does not exist; check the path"):
        load_role_assignments(tmp_path / "nope.csv")


# ------------------------------------------------------------------ wrong_role


@pytest.fixture(scope="module")
def role_log(passport_sop):
    rows = [
        ("R1", "pra_permohonan", "2024-03-28 07:00", "pemohon"),  # applicant's step: not covered
        ("R1", "PERIKSA_BERKAS", "2024-03-28 08:30", "Rina"),
        ("R1", "verifikasi_penyelia", "2024-03-28 08:45", "Rina"),  # wrong_role
        ("R1", "foto_sidik_jari", "2024-03-28 09:00", "RINA "),  # same officer, other spelling
        ("R1", "adjudikasi", "2024-03-28 10:00", "Budi"),
        ("R1", "persetujuan", "2024-03-29 10:00", "Budi"),  # kasi_dokumen only from 1 April
        ("R2", "adjudikasi", "2024-03-31 23:30", "Budi"),  # last minute of the adjudicator role
        ("R2", "persetujuan", "2024-04-01 00:30", "Budi"),  # local date 1 April: valid
        ("R2", "verifikasi_pembayaran", "2024-04-01 09:00", "Joko"),  # not in the file
        ("R2", "pencetakan", "2024-04-01 10:00", None),  # no officer recorded
        ("R2", "laminasi", "2024-04-01 11:00", "Dewi"),
        ("R3", "adjudikasi", "2024-04-02 09:00", "Budi"),  # adjudicator role ended 31 March
        ("R3", "persetujuan", "2024-04-03 09:00", "Dewi"),
    ]
    return mapped(rows, passport_sop)


@pytest.fixture(scope="module")
def assignments(passport_sop):
    return load_role_assignments(ROLES / "assignments.csv", passport_sop)


def test_wrong_role_findings_exact(role_log, passport_sop, assignments):
    findings = check_roles(role_log, passport_sop, assignments)
    assert list(findings.columns) == FINDING_COLUMNS
    assert set(findings["kind"]) == {"wrong_role"}
    assert brief(findings) == [
        ("R1", "verifikasi_penyelia", "wrong_role", "Rina", "petugas_loket; petugas_wawancara", 3),
        ("R1", "persetujuan", "role_not_valid", "Budi", "adjudikator", 6),
        ("R2", "verifikasi_pembayaran", "unknown_officer", "Joko", "", 9),
        ("R3", "adjudikasi", "role_not_valid", "Budi", "kasi_dokumen", 12),
    ]
    assert findings["detail"].tolist() == [
        "done by 'Rina', whose role(s) on 2024-03-28 (petugas_loket, petugas_wawancara) may not do "
        "this step; the SOP assigns it to: penyelia",
        "done by 'Budi' on 2024-03-29, outside the validity of the role(s) that allow this step "
        "(kasi_dokumen from 2024-04-01)",
        "done by 'Joko', who is not in the role assignments; the SOP assigns this step to: bendahara",
        "done by 'Budi' on 2024-04-02, outside the validity of the role(s) that allow this step "
        "(adjudikator 2024-01-01 to 2024-03-31)",
    ]
    assert findings["event_time"].iloc[0] == pd.Timestamp("2024-03-28 08:45", tz=WIB)
    assert findings["event_pos"].tolist() == [2, 5, 2, 0]


def test_validity_uses_the_local_date_in_the_given_zone(role_log, passport_sop, assignments):
    # In UTC, R2's 00:30 WIB approval on 1 April is still 31 March: Budi was not yet kasi_dokumen.
    findings = check_roles(role_log, passport_sop, assignments, tz="UTC")
    assert ("R2", "persetujuan", "role_not_valid", "Budi", "adjudikator", 8) in brief(findings)


def test_roles_from_a_path_and_file_written_with_role_names(role_log, passport_sop):
    from_path = check_roles(role_log, passport_sop, ROLES / "assignments.csv")
    # Loaded without the SOP, the role written by name is mapped when checking.
    raw = load_role_assignments(ROLES / "assignments.csv")
    assert "Kasi/Kasubsi Dokumen (head of the document section)" in set(raw["role"])
    from_raw = check_roles(role_log, passport_sop, raw)
    pd.testing.assert_frame_equal(from_path, from_raw)
    assert len(from_path) == 4


def test_role_coverage_counts_what_was_not_checked(role_log, passport_sop, assignments):
    cov = role_coverage(role_log, passport_sop, assignments).set_index("step")
    assert list(cov.reset_index().columns) == COVERAGE_COLUMNS
    assert len(cov) == len(passport_sop.steps)
    assert cov.loc["pra_permohonan", ["events", "checked", "not_covered"]].tolist() == [1, 0, 1]
    assert cov.loc["pencetakan", ["events", "checked", "no_officer"]].tolist() == [1, 0, 1]
    assert cov.loc["adjudikasi", ["events", "checked", "role_not_valid", "wrong_role"]].tolist() == [3, 3, 1, 0]
    assert cov.loc["verifikasi_pembayaran", ["checked", "unknown_officer"]].tolist() == [1, 1]
    assert cov.loc["verifikasi_penyelia", ["checked", "wrong_role"]].tolist() == [1, 1]
    assert int(cov["events"].sum()) == 13 and int(cov["checked"].sum()) == 11


def test_no_officer_column_means_nothing_checked(role_log, passport_sop, assignments):
    no_res = role_log.drop(columns=RES)
    assert check_roles(no_res, passport_sop, assignments).empty
    assert check_separation_of_duties(no_res, passport_sop).empty
    cov = role_coverage(no_res, passport_sop, assignments)
    assert int(cov["no_officer"].sum()) == 13 and int(cov["checked"].sum()) == 0


# ------------------------------------------------------------------ duty_conflict


def test_duty_conflicts_exact(passport_sop):
    rows = [
        # C1: the document check twice by Rina, then the supervisor check by "rina ": one
        # finding on the supervisor check, with both earlier rows as evidence.
        ("C1", "pemeriksaan_berkas", "2024-03-04 08:10", "Rina"),
        ("C1", "pemeriksaan_berkas", "2024-03-04 08:20", "Rina"),
        ("C1", "verifikasi_penyelia", "2024-03-04 08:30", "rina "),
        # C2: reversed order: the finding goes on the later event.
        ("C2", "verifikasi_penyelia", "2024-03-04 08:10", "Sari"),
        ("C2", "pemeriksaan_berkas", "2024-03-04 08:20", "Sari"),
        # C3: no officer recorded on either: not a conflict.
        ("C3", "adjudikasi", "2024-03-04 09:00", None),
        ("C3", "persetujuan", "2024-03-05 09:00", None),
        # C4: different people: fine.
        ("C4", "adjudikasi", "2024-03-04 09:00", "Budi"),
        ("C4", "persetujuan", "2024-03-05 09:00", "Dewi"),
        # C5: A, B, A by the same officer: B conflicts with the first A, the second A with B.
        ("C5", "adjudikasi", "2024-03-04 09:00", "Dewi"),
        ("C5", "persetujuan", "2024-03-05 09:00", "Dewi"),
        ("C5", "adjudikasi", "2024-03-06 09:00", "Dewi"),
        # C6: the same officer in two different cases is no conflict.
        ("C6", "adjudikasi", "2024-03-04 09:00", "Agus"),
        ("C7", "persetujuan", "2024-03-04 09:00", "Agus"),
    ]
    findings = check_separation_of_duties(mapped(rows, passport_sop), passport_sop)
    assert list(findings.columns) == FINDING_COLUMNS
    assert set(findings["kind"]) == {"duty_conflict"} and set(findings["detail_code"]) == {"duty_conflict"}
    assert [(r.case_id, r.step, r.related, r.event_row, r.evidence_rows) for r in findings.itertuples()] == [
        ("C1", "verifikasi_penyelia", "pemeriksaan_berkas", 3, "1; 2"),
        ("C2", "pemeriksaan_berkas", "verifikasi_penyelia", 5, "4"),
        ("C5", "persetujuan", "adjudikasi", 11, "10"),
        ("C5", "adjudikasi", "persetujuan", 12, "11"),
    ]
    assert findings["detail"].iloc[0] == (
        "done by 'rina', who also did 'Pemeriksaan kelengkapan berkas, pemindaian dan perekaman "
        "data' (rows 1; 2) in this case; the SOP requires different people (Pemeriksa berkas dan "
        "penyelia harus orang yang berbeda.)"
    )
    assert findings["resource"].iloc[1] == "Sari"


def test_duty_conflict_on_the_role_log(role_log, passport_sop):
    findings = check_separation_of_duties(role_log, passport_sop)
    # R1: Rina checked the documents and did the supervisor check, Budi adjudicated and
    # approved; R2: Budi again; R3 was approved by Dewi.
    assert [(r.case_id, r.step, r.resource, r.evidence_rows) for r in findings.itertuples()] == [
        ("R1", "verifikasi_penyelia", "Rina", "2"), ("R1", "persetujuan", "Budi", "5"),
        ("R2", "persetujuan", "Budi", "7")]
    assert findings["event_time"].iloc[1] == pd.Timestamp(dt.datetime(2024, 3, 29, 10), tz=WIB)


def test_hand_built_table_reads_day_first_dates(role_log, passport_sop):
    table = pd.DataFrame({"officer": ["Budi", "Budi"], "role": ["adjudikator", "kasi_dokumen"],
                          "valid_from": ["", "01/04/2024"], "valid_to": ["31/03/2024", None]})
    found = check_roles(role_log, passport_sop, table)
    # Only Budi is in this table: the other officers are unknown; Budi's findings as with the file.
    budi = found[found["resource"] == "Budi"]
    assert [(r.case_id, r.step, r.detail_code) for r in budi.itertuples()] == [
        ("R1", "persetujuan", "role_not_valid"), ("R3", "adjudikasi", "role_not_valid")]
    bad = table.assign(valid_to=["2024-13-01", None])
    with pytest.raises(ValueError, match="valid_to '2024-13-01' is not a date"):
        check_roles(role_log, passport_sop, bad)
