"""Write the small synthetic demo log: a handful of passport applications per deviation kind.

Synthetic data, made for the demo audit and the quickstart notebook; no real applicant is in it.
Run from the repository root: python event_logs/make_demo_sample.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

OUT = Path(__file__).with_name("paspor_demo_synthetic.csv")

# System codes as the service system records them (mapped to SOP steps through the aliases).
MAIN = ["PRA_PERMOHONAN", "BAYAR_PNBP", "ANTRIAN", "PERIKSA_BERKAS", "CEK_CEKAL", "VERIF_PENYELIA",
        "FOTO_BIOMETRIK", "WAWANCARA", "VERIF_BAYAR", "ADJUDIKASI", "APPROVAL", "CETAK", "QC",
        "LAMINASI", "SERAH"]
OFFICERS = {
    "PRA_PERMOHONAN": ["pemohon"], "BAYAR_PNBP": ["pemohon"], "ANTRIAN": ["pemohon"],
    "PERIKSA_BERKAS": ["Rina", "Budi"], "CEK_CEKAL": ["Rina", "Budi"], "VERIF_PENYELIA": ["Sari"],
    "FOTO_BIOMETRIK": ["Andi", "Dewi"], "WAWANCARA": ["Andi", "Dewi"], "VERIF_BAYAR": ["Yusuf"],
    "ADJUDIKASI": ["Hendra"], "APPROVAL": ["Lestari"], "CETAK": ["Joko"], "QC": ["Joko"],
    "BA_RUSAK": ["Joko"], "LAMINASI": ["Lestari"], "SERAH": ["Maya"], "TOLAK": ["Lestari"],
    "TITIP_BERKAS": ["Budi"],
}


def swap(seq, a, b):
    s = list(seq)
    i, j = s.index(a), s.index(b)
    s[i], s[j] = s[j], s[i]
    return s


def without(seq, a):
    return [x for x in seq if x != a]


def insert_after(seq, after, new):
    s = list(seq)
    s.insert(s.index(after) + 1, new)
    return s


def cases():
    """(label, activities, options) per case; the label says what the demo case shows.

    Options: `officer` overrides who does a step; `delay` puts the adjudication that many working
    days after the interview (late); `open` cases are the last ones and stop half-way."""
    return [c if len(c) == 3 else (*c, {}) for c in _cases()]


def _cases():
    out = [("conforming", MAIN)] * 24
    out += [("conforming, re-scan", insert_after(MAIN, "PERIKSA_BERKAS", "PERIKSA_BERKAS"))] * 3
    reprint = MAIN[:13] + ["BA_RUSAK", "CETAK", "QC"] + MAIN[13:]
    out += [("conforming, reprint", reprint)] * 3
    out += [("rejected at travel-ban check", MAIN[:5] + ["TOLAK"])] * 2
    out += [("rejected at interview", MAIN[:8] + ["TOLAK"])] * 2
    out += [("rejected by adjudicator", MAIN[:10] + ["TOLAK"])] * 2
    out += [("skipped supervisor check", without(MAIN, "VERIF_PENYELIA"))] * 3
    out += [("skipped quality test", without(MAIN, "QC"))] * 2
    out += [("skipped interview", without(MAIN, "WAWANCARA"))] * 2
    out += [("interview before photo", swap(MAIN, "FOTO_BIOMETRIK", "WAWANCARA"))] * 3
    out += [("approval before adjudication", swap(MAIN, "ADJUDIKASI", "APPROVAL"))] * 2
    out += [("repeated interview", insert_after(MAIN, "WAWANCARA", "WAWANCARA"))] * 3
    out += [("repeated approval", insert_after(MAIN, "APPROVAL", "APPROVAL"))] * 2
    out += [("documents left at counter", insert_after(MAIN, "PERIKSA_BERKAS", "TITIP_BERKAS"))] * 3
    # Time, roles and four-eyes: the acting section head (Hendra, also the adjudicator) approves
    # his own adjudication; adjudication a week late; the printing officer interviews.
    out += [("adjudicator approves own case", MAIN, {"officer": {"APPROVAL": "Hendra"}})] * 2
    out += [("adjudication 6 working days late", MAIN, {"delay": 6})] * 2
    out += [("interview by the printing officer", MAIN, {"officer": {"WAWANCARA": "Joko"}})]
    # Still waiting for adjudication when the export was taken.
    out += [("open: waiting for adjudication", MAIN[:9], {"open": True})] * 2
    return out


def working_day(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def main() -> None:
    rng = random.Random(20240301)
    rows = []
    day = dt.date(2024, 3, 4)
    all_cases = cases()
    for n, (label, acts, options) in enumerate(all_cases, start=1):
        case_id = f"2024PAS{n:05d}"
        kind = "percepatan" if n % 11 == 0 else "reguler"
        visit = working_day(day + dt.timedelta(days=n // 4))
        if options.get("open"):  # the newest applications: after every other case's visit
            visit = working_day(day + dt.timedelta(days=len(all_cases) // 4 + 1))
        t = dt.datetime.combine(visit - dt.timedelta(days=3), dt.time(19, 0)) + dt.timedelta(minutes=rng.randint(0, 120))
        for act in acts:
            if act == "ANTRIAN":
                t = dt.datetime.combine(visit, dt.time(8, 0)) + dt.timedelta(minutes=rng.randint(0, 90))
            elif act == "ADJUDIKASI" and (kind == "reguler" or options.get("delay")):
                d = t.date()
                for _ in range(options.get("delay", 1)):
                    d = working_day(d + dt.timedelta(days=1))
                t = dt.datetime.combine(d, dt.time(9, 0)) + dt.timedelta(minutes=rng.randint(0, 240))
            else:
                t += dt.timedelta(minutes=rng.randint(3, 25))
            rows.append({
                "no_permohonan": case_id,
                "tahapan": act,
                "waktu": t.strftime("%Y-%m-%d %H:%M:%S"),
                "petugas": options.get("officer", {}).get(act) or rng.choice(OFFICERS[act]),
                "jenis_layanan": kind,
                "catatan_demo": label,
            })
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} events of {len(all_cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
