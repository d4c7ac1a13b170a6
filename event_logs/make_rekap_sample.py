"""Write the demo service's rekap workbook: the demo log as an office's report screen exports it.

One row per application, one date column per SOP step (the time of day beside the date for
arrival, interview and hand-over), the officer of the interview, adjudication, approval and
hand-over, a title block of merged cells above the header, and one sheet per half month (by the
date of the pre-application). Like a real rekap it keeps one date per step: a step done twice shows
its last date, steps without a column (documents left at the counter, the damage report before a
reprint) do not appear, and steps on one day without a time keep the column order.
Synthetic data, made from event_logs/paspor_demo_synthetic.csv; no real applicant is in it.
Run from the repository root: python event_logs/make_rekap_sample.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE / "paspor_demo_synthetic.csv"
OUT = HERE / "paspor_demo_rekap_synthetic.xlsx"

# (header, system code of the step, what the column holds): date, time of day, officer
COLUMNS = [
    ("Tgl Pra Permohonan", "PRA_PERMOHONAN", "date"),
    ("Tgl Pembayaran", "BAYAR_PNBP", "date"),
    ("Tgl Kedatangan", "ANTRIAN", "date"),
    ("Jam Kedatangan", "ANTRIAN", "time"),
    ("Tgl Pemeriksaan Berkas", "PERIKSA_BERKAS", "date"),
    ("Tgl Cek Cekal", "CEK_CEKAL", "date"),
    ("Tgl Verifikasi Penyelia", "VERIF_PENYELIA", "date"),
    ("Tgl Foto", "FOTO_BIOMETRIK", "date"),
    ("Tgl Wawancara", "WAWANCARA", "date"),
    ("Jam Wawancara", "WAWANCARA", "time"),
    ("Petugas Wawancara", "WAWANCARA", "officer"),
    ("Tgl Verifikasi Pembayaran", "VERIF_BAYAR", "date"),
    ("Tgl Adjudikasi", "ADJUDIKASI", "date"),
    ("Petugas Adjudikasi", "ADJUDIKASI", "officer"),
    ("Tgl Persetujuan", "APPROVAL", "date"),
    ("Petugas Persetujuan", "APPROVAL", "officer"),
    ("Tgl Pencetakan", "CETAK", "date"),
    ("Tgl Uji Kualitas", "QC", "date"),
    ("Tgl Laminasi", "LAMINASI", "date"),
    ("Tgl Penyerahan", "SERAH", "typed date"),  # typed Excel date cells, the others are text
    ("Jam Penyerahan", "SERAH", "time"),
    ("Petugas Penyerahan", "SERAH", "officer"),
    ("Tgl Penolakan", "TOLAK", "date"),
]
HEADER = ["No", "No Permohonan", "Jenis Layanan"] + [c for c, _, _ in COLUMNS]
SHEETS = [("1-15 Maret", "PERIODE 1 - 15 MARET 2024", 1, 15), ("16-31 Maret", "PERIODE 16 - 31 MARET 2024", 16, 31)]


def applications() -> dict[str, dict]:
    """Per application: its service type and the last time and officer of each step."""
    out: dict[str, dict] = {}
    with SOURCE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            app = out.setdefault(row["no_permohonan"], {"jenis": row["jenis_layanan"], "steps": {}})
            when = dt.datetime.fromisoformat(row["waktu"])
            app["steps"][row["tahapan"]] = (when, row["petugas"])  # the file is in time order: the last wins
    return out


def row_of(number: int, case: str, app: dict) -> list:
    cells: list = [number, case, app["jenis"]]
    for _, code, what in COLUMNS:
        step = app["steps"].get(code)
        if step is None:
            cells.append(None)
        elif what == "date":
            cells.append(step[0].strftime("%d/%m/%Y"))
        elif what == "typed date":
            cells.append(dt.datetime(step[0].year, step[0].month, step[0].day))
        elif what == "time":
            cells.append(step[0].strftime("%H:%M"))
        else:
            cells.append(step[1])
    return cells


def main() -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    apps = applications()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, period, first, last in SHEETS:
        ws = wb.create_sheet(name)
        titles = ["REKAP PERMOHONAN PASPOR BARU (M-PASPOR)", "KANTOR IMIGRASI CONTOH", period]
        for i, title in enumerate(titles, start=1):
            ws.cell(row=i, column=1, value=title).font = Font(bold=True)
            ws.cell(row=i, column=1).alignment = Alignment(horizontal="center")
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=len(HEADER))
        ws.append([])
        ws.append(HEADER)
        for cell in ws[len(titles) + 2]:
            cell.font = Font(bold=True)
        number = 0
        for case in sorted(apps):
            start = apps[case]["steps"]["PRA_PERMOHONAN"][0]
            if first <= start.day <= last:
                number += 1
                ws.append(row_of(number, case, apps[case]))
        col = HEADER.index("Tgl Penyerahan") + 1
        for cells in ws.iter_cols(min_col=col, max_col=col, min_row=len(titles) + 3):
            for cell in cells:
                cell.number_format = "DD/MM/YYYY"
    # fixed document properties: the same input gives the same workbook
    wb.properties.creator = "sopaudit event_logs/make_rekap_sample.py"
    wb.properties.created = wb.properties.modified = dt.datetime(2024, 4, 1)
    wb.save(OUT)
    print(f"wrote {OUT} ({len(apps)} applications)")


if __name__ == "__main__":
    main()
