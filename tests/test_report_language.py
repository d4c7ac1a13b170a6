"""Every visible string of the report is in the report's language: report.html (text, tooltips,
the script's labels and the findings it draws), findings.xlsx (sheet names, headers, the summary
and quality sheets, the explanation of each finding) and the terminal summary. The demo audit is
run through the CLI in both languages; names from the data (the SOP file, the log, the roles
file, paths) are taken out, and what is left must hold no word of the other language's list."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook

from sopaudit.cli import main
from test_report_support import page_data

from conftest import DEMO_LOG, FIXTURES, PASSPORT_SOP, ROOT

ROLES = ROOT / "event_logs" / "paspor_demo_petugas.csv"
FIXTURES_MINI = FIXTURES / "mini_sop.yaml"

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that only English has (never Indonesian, never a code shown as such).
ENGLISH = _words("""
the of and with from not is are was were by to on at for this that which these those yes no true false none
case cases step steps event events finding findings working day days skipped repeated late order outside
officer officers row rows shown page next previous close zoom open full size report files start end keep drop
activity time resource rate total count share detail decision answered requires done never again took waited
allows standard minutes hours parallel branches any all rejected input precision conforming variants
calendar country closures collective leave computed checked costs move moves silent visible synchronous
year first month name seconds encoding separator policy pairs groups largest distinct plausible automatic
""")

# Words that only Indonesian has.
INDONESIAN = _words("""
yang dan dari tidak ya mulai selesai langkah permohonan hari kerja baris temuan dengan untuk pada sesuai
dilakukan oleh atau bukan belum menit jam peristiwa kantor petugas diulang dilewati ditolak waktu paralel
cabang semua kolom jumlah berkas laporan halaman sebelumnya berikutnya tutup perbesar perkecil keputusan
dijawab padahal mengharuskan kecocokan presisi terbuka varian ringkasan kalender negara dipertahankan
otomatis pasangan kelompok tanggal bulan tahun detik sampai dihitung diperiksa peran urutan
""")


def _strings(value) -> list[str]:
    """The values (not the keys) of a YAML document."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None else []


def data_names(out: Path) -> list[str]:
    """Every text that comes from the data: the SOP file, the log, the roles file, paths."""
    values = _strings(yaml.safe_load(PASSPORT_SOP.read_text(encoding="utf-8")))
    names = set(values) | {v.replace("_", " ") for v in values}  # an end's id is shown so
    for path in (DEMO_LOG, ROLES):
        df = pd.read_csv(path, dtype=str)
        names |= set(df.columns) | {v for c in df.columns for v in df[c].dropna()}
    names |= {str(p) for p in (DEMO_LOG, PASSPORT_SOP, ROLES, out, ROOT)}
    names |= {str(Path("event_logs") / DEMO_LOG.name), str(Path("event_logs") / ROLES.name),
              str(Path("reference_models") / PASSPORT_SOP.name)}
    return sorted((n for n in names if len(n) > 1), key=len, reverse=True)


class _Visible(HTMLParser):
    """Text a reader can see or hover: text nodes (SVG labels and tooltips included) and the
    title/aria-label attributes; not the script, the style or the embedded data."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for k, v in attrs:
            if k in ("title", "aria-label", "data-title") and v:
                self.parts.append(v)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_texts(html: str) -> list[str]:
    p = _Visible()
    p.feed(html)
    data = page_data(html)
    f = data["findings"]
    return p.parts + list(data["labels"].values()) + f["texts"] + [k[1] for k in f["kinds"]] + \
        [x[3] for c in data["cases"].values() for x in c["f"]] + [c["status"] for c in data["cases"].values()]


def xlsx_texts(path: Path, t) -> list[str]:
    wb = load_workbook(path, read_only=True)
    out = list(wb.sheetnames)
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header = [str(c) for c in next(rows, ()) if c is not None]
        out += header
        if ws.title in (t("sheet.summary"), t("sheet.quality")):
            out += [str(c) for row in rows for c in row if isinstance(c, str)]
        else:  # the columns in words (the others hold data, codes and numbers)
            worded = {t(f"col.{c}") for c in ("detail", "kind_label", "status", "measure", "unit", "end_reached")}
            at = [i for i, h in enumerate(header) if h in worded]
            out += [str(row[i]) for row in rows for i in at if row[i]]
    return out


def foreign_words(texts: list[str], names: list[str], words: set[str]) -> dict[str, str]:
    """Each word of `words` found in `texts` once the data names and file names are taken out,
    with its context. The texts are joined first, so a name wrapped over lines of a drawing is
    still whole."""
    text = " ".join(" ".join(texts).split())
    pattern = "|".join(re.escape(" ".join(n.split())) for n in names)
    text = re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", " ", text)
    text = re.sub(r"\b[\w-]+\.(csv|xlsx|json|html|yaml)\b", " ", text)
    text = re.sub(r"\{\w+\}", " ", text)  # placeholders of the script's labels
    found = {}
    for m in re.finditer(r"[A-Za-z]+", text):
        w = m.group().lower()
        if w in words and w not in found:
            found[w] = text[max(0, m.start() - 80):m.end() + 40]
    return found


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    out = {}
    for lang in ("id", "en"):
        d = tmp_path_factory.mktemp(f"lang-{lang}")
        res = CliRunner().invoke(main, ["demo", "--out", str(d), "--lang", lang])
        assert res.exit_code == 0, res.output
        out[lang] = (d, res.output)
    return out


@pytest.mark.parametrize("lang, other", [("id", ENGLISH), ("en", INDONESIAN)])
def test_every_visible_string_is_in_the_report_language(demo_runs, lang, other):
    from sopaudit.report.i18n import translator

    t = translator(lang)
    out, terminal = demo_runs[lang]
    names = data_names(out)
    html = (out / "report.html").read_text(encoding="utf-8")
    parts = {"report.html": html_texts(html), "findings.xlsx": xlsx_texts(out / "findings.xlsx", t),
             "terminal": terminal.splitlines()}
    for where, texts in parts.items():
        assert len(" ".join(texts)) > 500, where  # the texts were found at all
        assert foreign_words(texts, names, other) == {}, where


def test_the_word_lists_catch_the_other_language(demo_runs):
    """The check can fail: the English page holds English words, the Indonesian one Indonesian."""
    for lang, own in (("en", ENGLISH), ("id", INDONESIAN)):
        out, terminal = demo_runs[lang]
        html = (out / "report.html").read_text(encoding="utf-8")
        found = foreign_words(html_texts(html) + terminal.splitlines(), data_names(out), own)
        assert len(found) > 30, (lang, sorted(found))


def test_a_wrong_branch_is_explained_in_the_report_language():
    import sopaudit as sa
    from sopaudit.report.details import DetailWriter
    from sopaudit.report.i18n import translator

    from conftest import FIXTURES, make_log

    sop = sa.load_sop(FIXTURES / "branch_sop.yaml")
    log = make_log({"new_with_bap": ["daftar", "bap", "periksa", "cetak", "serah"]})
    r = sa.audit(log.assign(jenis_layanan="baru"), sop, processes=1)
    row = r.deviations.to_dict(orient="records")[0]
    assert row["kind"] == "wrong_branch"
    assert DetailWriter(sop, translator("id"), "id")(row) == (
        "keputusan 'Paspor hilang atau rusak?' dijawab 'ya', padahal jenis_layanan = 'baru' mengharuskan 'tidak'")
    assert DetailWriter(sop, translator("en"), "en")(row) == (
        "decision 'Paspor hilang atau rusak?' answered 'yes', but jenis_layanan = 'baru' requires 'no'")


def test_recorded_codes_and_phrases_are_shown_in_the_report_language(tmp_path):
    import sopaudit as sa
    from sopaudit.core.columns import log_info
    from sopaudit.report.i18n import translator
    from sopaudit.report.values import parameter_rows, phrase

    path = tmp_path / "log.csv"
    path.write_text("kasus,tahap,waktu\nA1,daftar,2024-03-01 08:00\n,daftar,2024-03-01 09:00\n"
                    "A2,,2024-03-01 09:30\nA3,daftar,bukan waktu\n", encoding="utf-8")
    log = sa.read_log(path, case="kasus", activity="tahap", time="waktu", tz="Asia/Jakarta")
    info = log_info(log)
    idn, en = translator("id"), translator("en")
    assert [phrase(reason, idn) for _, reason in info.rejected] == [
        "tidak ada nomor permohonan di kolom 'kasus'", "tidak ada kegiatan di kolom 'tahap'",
        "waktu kosong atau tidak terbaca di kolom 'waktu'"]
    assert [phrase(reason, en) for _, reason in info.rejected] == [reason for _, reason in info.rejected]
    q = info.quality
    assert [phrase(k, idn) for k in q["time_formats"]] == ["tahun di depan (2024-12-31 14:05)"]
    assert phrase(q["outside_office_hours"]["office_hours"], idn) == "08:00-16:00 pada hari kerja (ID, Asia/Jakarta)"
    r = sa.audit(log, sa.load_sop(FIXTURES_MINI), processes=1)
    rows = dict(parameter_rows(r.provenance["parameters"], idn, "id"))
    assert rows["presisi dihitung"] == "tidak"
    assert rows["kalender hari kerja"] == ("negara: ID; zona waktu: Asia/Jakarta; jam kantor: 08:00, 16:00; "
                                           "cuti bersama dihitung sebagai hari kerja: tidak; hari tutup kantor: 0")
    assert rows["biaya penyelarasan"].startswith("langkah log atau langkah model yang terlihat bernilai 1")


def test_explanations_written_once_per_combination_are_each_findings_own():
    # DetailWriter.column writes each distinct combination of fields once: every finding must still
    # get the sentence written for its own row (missing values of any kind read as missing)
    from sopaudit.report.details import DetailWriter
    from sopaudit.report.i18n import translator
    from test_report_support import demo_result

    result = demo_result()
    more = result.deviations.copy()  # the demo's findings again, with other measurements and officers
    late = more["measured"].notna()
    more.loc[late, "measured"] += np.arange(1, late.sum() + 1) * 1.5
    more["resource"] = more["resource"].astype(object).where(~late, "someone else")
    stricter = more.assign(limit=more["limit"] - 0.5)  # rows that differ in the limit alone
    dev = pd.concat([result.deviations, more, stricter], ignore_index=True)
    dev["resource"] = dev["resource"].astype("category")
    dev.loc[dev.index[::7], "unit"] = None  # missing text beside missing numbers
    assert dev["measured"].nunique() >= 4 and dev["measured"].isna().any() and len(dev) > 40
    for lang in ("id", "en"):
        writer = DetailWriter(result.sop, translator(lang), lang)
        rows = dev.astype(object).where(dev.notna(), None).to_dict(orient="records")
        assert writer.column(dev) == [writer(r) for r in rows]
        assert writer.column(dev.iloc[:0]) == []
