"""`sopaudit sop import`: the SOP AP table an office keeps in Excel or Word, read into the
project's SOP format.

The table is found by its headings (No, Kegiatan, Pelaksana, Mutu Baku: Kelengkapan, Waktu,
Output, Keterangan; or their English names), over one or two heading rows with merged cells.
A row marked with a diamond (or a question) is a decision; its Keterangan says where "Ya" and
"Tidak" lead ("Tidak: kembali ke No. 3", "jika tidak, kembali ke langkah 3", "Ya: selesai").
Everything the importer had to guess is listed; a jump it cannot read stops the import and
names the row (ap_flow.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sopaudit.core.errors import InputFileError, SopAuditError
from sopaudit.sop.ap_flow import flow_of
from sopaudit.sop.ap_rows import NEXT, ApRow
from sopaudit.sop.ap_write import DATA_TITLE
from sopaudit.sop.load import parse_duration, sop_from_yaml
from sopaudit.sop.model import SOP, End, Header, Role, Step, TimeStandard
from sopaudit.sop.yaml_write import to_yaml

DIAMONDS = set("◇◆♦⬦⬥⟡")
HEADINGS = {
    "no": {"no", "no.", "nomor", "nr"},
    "kegiatan": {"kegiatan", "uraian kegiatan", "uraian", "aktivitas", "activity", "activities", "description of activity"},
    "pelaksana": {"pelaksana", "executor", "executors", "actor", "actors", "performer", "performers"},
    "mutu": {"mutu baku", "quality standard", "quality standards", "standard"},
    "kelengkapan": {"kelengkapan", "persyaratan", "persyaratan/kelengkapan", "requirements", "completeness", "input", "inputs"},
    "waktu": {"waktu", "time"},
    "output": {"output", "keluaran", "hasil"},
    "keterangan": {"keterangan", "ket", "ket.", "notes", "note", "remarks", "remark"},
}
HEADER_KEYS = {
    "code": ("nomor sop", "no. sop", "no sop", "sop number", "nomor"),
    "title": ("nama sop", "judul sop", "sop name", "title"),
    "unit": ("unit", "unit kerja", "satuan kerja", "office"),
    "service": ("layanan", "service"),
    "version": ("versi", "revisi", "version"),
    "issued": ("tanggal pembuatan", "tgl. pembuatan", "date issued"),
    "effective": ("tanggal efektif", "tgl. efektif", "effective date"),
    "approver": ("disahkan oleh", "approved by"),
    "legal_basis": ("dasar hukum", "legal basis"),
    "notes": ("catatan", "notes"),
}
_ANSWER = r"(?:jika\s+|bila\s+|apabila\s+|if\s+)?\b(ya|yes|tidak|no)\b\s*[:=,\-–]?\s*(?:maka\s+)?"
_JUMP = re.compile(_ANSWER + r"(?:(?:lanjut(?:kan)?|kembali|go(?:\s+back)?|back|return)\s+)?(?:ke|to)?\s*"
                   r"(?:no\.?|nomor|langkah|step|kegiatan)?\s*(\d+)", re.I)
_END = re.compile(_ANSWER + r"(selesai|berakhir|end|stop)\b(?:\s*\(([^)]*)\))?", re.I)
_GOTO = re.compile(r"(?:lanjut(?:kan)?|kembali|go(?:\s+back)?|back|continue)\s+(?:ke|to)\s*(?:no\.?|nomor|langkah|step)?\s*(\d+)", re.I)
_CODE = re.compile(r"kode\s*:\s*([A-Za-z_][A-Za-z0-9_.-]*)", re.I)
_ALIAS = re.compile(r"alias\s*:\s*([^;]+)", re.I)
_ENDID = re.compile(r"akhir\s*:\s*([A-Za-z_][A-Za-z0-9_.-]*)", re.I)
_N24 = re.compile(r"^\s*(\d+)\s*[x×]\s*24\s*jam\s*$", re.I)


@dataclass
class Imported:
    """What an import made: the SOP, its YAML text and what had to be guessed."""

    sop: SOP
    yaml: str
    guesses: list[str] = field(default_factory=list)


def _norm(text) -> str:
    text = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return " ".join(text.replace("\n", " ").split()).strip().lower()


def slug(text: str, fallback: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")[:40].strip("_")
    return s if s and s[0].isalpha() else f"{fallback}_{s}".strip("_")


# --- reading the grid ------------------------------------------------------------------------


def grids_xlsx(path: Path, sheet: str | None) -> list[tuple[str, list[list[str]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputFileError(f"{path}: cannot open the workbook ({exc}); save it again as .xlsx") from None
    names = [sheet] if sheet else wb.sheetnames
    out = []
    for name in names:
        if name not in wb.sheetnames:
            raise InputFileError(f"{path}: no sheet '{name}'; sheets: {', '.join(wb.sheetnames)}")
        ws = wb[name]
        grid = [["" if c.value is None else str(c.value) for c in row] for row in ws.iter_rows()]
        for rng in ws.merged_cells.ranges:  # a merged cell's text stands in every cell it covers
            value = grid[rng.min_row - 1][rng.min_col - 1]
            for r in range(rng.min_row - 1, rng.max_row):
                for c in range(rng.min_col - 1, rng.max_col):
                    grid[r][c] = value
        out.append((name, grid))
    return out


def grids_docx(path: Path, table: int | None) -> list[tuple[str, list[list[str]]]]:
    from docx import Document

    try:
        doc = Document(str(path))
    except Exception as exc:
        raise InputFileError(f"{path}: cannot open the document ({exc}); save it again as .docx") from None
    tables = doc.tables
    picked = [table] if table is not None else range(1, len(tables) + 1)
    out = []
    for n in picked:
        if not 1 <= n <= len(tables):
            raise InputFileError(f"{path}: no table {n}; the document has {len(tables)} table(s)")
        out.append((f"table {n}", [[c.text for c in row.cells] for row in tables[n - 1].rows]))
    paragraphs = [p.text for p in doc.paragraphs]
    out.append(("paragraphs", [[p] for p in paragraphs]))
    return out


# --- the table ---------------------------------------------------------------------------------


@dataclass
class _Columns:
    no: int
    kegiatan: int
    roles: list[tuple[int, str]]
    kelengkapan: int | None
    waktu: int | None
    output: int | None
    keterangan: int | None
    first_data: int


def _find_table(grid: list[list[str]]) -> _Columns | None:
    for h, row in enumerate(grid):
        cells = [_norm(c) for c in row]
        if not any(c in HEADINGS["kegiatan"] for c in cells) or not any(c in HEADINGS["no"] for c in cells):
            continue
        sub = [_norm(c) for c in grid[h + 1]] if h + 1 < len(grid) else [""] * len(cells)

        def col(key: str, where: list[str]) -> int | None:
            return next((i for i, c in enumerate(where) if c in HEADINGS[key]), None)

        roles = [(i, grid[h + 1][i].strip()) for i, c in enumerate(cells)
                 if c in HEADINGS["pelaksana"] and sub[i] and sub[i] not in HEADINGS["pelaksana"]]
        first = h + 2 if roles or any(c in HEADINGS["mutu"] for c in cells) else h + 1
        if first < len(grid) and all(re.fullmatch(r"\(?\d+\)?", _norm(c) or "x") for c in grid[first] if _norm(c)) \
                and sum(bool(_norm(c)) for c in grid[first]) >= 3:
            first += 1  # the row that numbers the columns (1) (2) (3) ...
        return _Columns(no=col("no", cells), kegiatan=col("kegiatan", cells), roles=roles,
                        kelengkapan=col("kelengkapan", sub) if roles else col("kelengkapan", cells),
                        waktu=col("waktu", sub) if roles else col("waktu", cells),
                        output=col("output", sub) if roles else col("output", cells),
                        keterangan=col("keterangan", cells), first_data=first)
    return None


def _header(grids: list[tuple[str, list[list[str]]]]) -> dict:
    """The header block: 'Nomor SOP | SOP-01' pairs in cells, or 'Nomor SOP: SOP-01' lines."""
    out: dict = {}
    for _, grid in grids:
        for row in grid:
            cells = [c.strip() for c in row]
            for i, cell in enumerate(cells):
                key = _norm(cell).rstrip(":").strip()
                m = re.match(r"^([^:]{2,40}):\s*(.+)$", cell.strip(), re.S)
                for field_name, names in HEADER_KEYS.items():
                    if field_name in out:
                        continue
                    if key in names:
                        value = next((c for c in cells[i + 1:] if c.strip(" :") and _norm(c) != key), "")
                        if value:
                            out[field_name] = value
                    elif m and _norm(m.group(1)) in names:
                        out[field_name] = m.group(2).strip()
    return out


def _duration(text: str, where: str, guesses: list[str]):
    m = _N24.match(text)
    if m:
        guesses.append(f"{where}: '{text}' read as {m.group(1)} day(s)")
        return parse_duration(f"{m.group(1)} hari")
    try:
        return parse_duration(text)
    except ValueError:
        guesses.append(f"{where}: cannot read the time '{text}'; left out")
        return None


def _time(text: str, where: str, guesses: list[str]) -> TimeStandard:
    inferred = "*" in text
    duration = wait = None
    for part in re.split(r"[,;\n]", text.replace("*", "")):
        part = part.strip()
        if not part:
            continue
        if _norm(part).startswith(("tunggu", "wait", "menunggu")):
            wait = _duration(re.sub(r"^\s*(tunggu|menunggu|wait)\s*", "", part, flags=re.I), where, guesses)
        else:
            duration = _duration(part, where, guesses)
    return TimeStandard(duration, wait, inferred and bool(duration or wait))


def _target(text: str, row_no: int, where: str, guesses: list[str]):
    """(yes, no) targets from a decision's texts; missing ones go to the next row."""
    found = {}
    for m in _END.finditer(text):
        answer = "yes" if m.group(1).lower() in ("ya", "yes") else "no"
        name = (m.group(3) or "").strip()
        end_id = slug(name, "selesai") if name else f"selesai_{row_no}"
        if not name:
            guesses.append(f"{where}: the answer '{m.group(1)}' ends the service; named the end '{end_id}'")
        found[answer] = End(end_id, "" if slug(name, "selesai") == name else name)
    for m in _JUMP.finditer(text):
        answer = "yes" if m.group(1).lower() in ("ya", "yes") else "no"
        found.setdefault(answer, int(m.group(2)))
    return found.get("yes", NEXT), found.get("no", NEXT), bool(found)


def read_table(path: Path, grids, strict: bool = False) -> Imported:
    picked = next(((name, grid, cols) for name, grid in grids if (cols := _find_table(grid)) is not None), None)
    if picked is None:
        raise InputFileError(f"{path}: no SOP AP table found: no row has the headings 'No' and 'Kegiatan' "
                             "(or 'Activity'); check --sheet/--table")
    name, grid, cols = picked
    if not cols.roles:
        raise InputFileError(f"{path} ({name}): the table has no Pelaksana columns with role names in the row "
                             "under the heading; name one column per role under 'Pelaksana'")
    guesses: list[str] = []
    extra = _data_block(grids)
    known_ids = {r.get("name"): r.get("id") for r in extra.pop("roles", []) or [] if isinstance(r, dict)}
    rows: list[ApRow] = []
    numbers: dict[int, int] = {}
    steps: dict[str, Step] = {}
    role_ids = {col: known_ids.get(role) or slug(role, "peran") for col, role in cols.roles}
    last_roles: tuple[str, ...] = ()
    for r in range(cols.first_data, len(grid)):
        line = grid[r]
        text = line[cols.kegiatan].strip() if cols.kegiatan is not None else ""
        no_text = _norm(line[cols.no]) if cols.no is not None else ""
        if not text and not no_text:
            if rows:
                break
            continue
        where = f"{path} ({name}) row No. {no_text.rstrip('.') or '?'}"
        if not re.fullmatch(r"\d+\.?", no_text):
            raise SopAuditError(f"{where}: the No. cell '{line[cols.no]}' is not a number; number the rows 1, 2, 3 ...")
        number = int(no_text.rstrip("."))
        numbers[number] = len(rows) + 1
        cell = {k: (line[c].strip() if c is not None and c < len(line) else "")
                for k, c in (("inputs", cols.kelengkapan), ("waktu", cols.waktu), ("output", cols.output),
                             ("notes", cols.keterangan))}
        marks = [(c, line[c].strip()) for c, _ in cols.roles if c < len(line) and line[c].strip()]
        if len(marks) > 1 and not all(m in DIAMONDS or m in "⬭○◯" for _, m in marks):
            guesses.append(f"{where}: marks in {len(marks)} Pelaksana columns "
                           f"({', '.join(dict(cols.roles)[c] for c, _ in marks)}); all taken as roles of the step")
        roles = tuple(role_ids[c] for c, _ in marks) or last_roles
        kind = _kind(text, marks, cell["notes"])
        row = ApRow(kind, text, line=r + 1)
        notes = cell["notes"]
        if kind == "decision":
            row.yes, row.no, _ = _target(notes + " " + cell["output"], number, where, guesses)
        elif kind == "end":
            m = _ENDID.search(notes)
            inner = re.sub(r"^(selesai|end|finish)\s*", "", text, flags=re.I).strip(" ()")
            row.end = m.group(1) if m else (slug(inner, "selesai") if inner else "")
            row.text = inner
        elif kind == "step":
            last_roles = roles
            code = _CODE.search(notes)
            sid = code.group(1) if code else slug(text, "langkah")
            row.step = sid
            low = _norm(notes)
            if "opsional (lanjutan)" in low or "optional (continued)" in low:
                row.optional = "more"
            elif any(w in low for w in ("opsional", "optional", "jika diperlukan", "bila diperlukan")):
                row.optional = "start"
            goto = _GOTO.search(notes)
            if goto:
                row.goto = int(goto.group(1))
            if sid not in steps:
                aliases = _ALIAS.search(notes)
                rest = [p.strip() for p in notes.split(";") if p.strip() and not re.match(
                    r"^(kode|alias)\s*:|^opsional|^optional|^(lanjut|kembali)\s", p.strip(), re.I)]
                steps[sid] = Step(
                    id=sid, name=text, roles=roles,
                    aliases=tuple(a.strip() for a in aliases.group(1).split(",") if a.strip()) if aliases else (),
                    time=_time(cell["waktu"], where, guesses),
                    inputs=tuple(p.strip() for p in re.split(r"[;\n]", cell["inputs"]) if p.strip()),
                    output=cell["output"], notes="; ".join(rest))
        rows.append(row)
    _renumber(rows, numbers, path)
    header = _header(grids)
    if strict and guesses:
        raise SopAuditError(f"{path}: --strict: the import had to guess:\n  " + "\n  ".join(guesses))
    flow = flow_of(rows, str(path))
    sop = SOP(header=_header_of(header, path, guesses),
              roles=tuple(Role(role_ids[c], role) for c, role in cols.roles),
              steps=tuple(steps.values()), flow=flow, source=str(path))
    text = to_yaml(sop, comments=[f"Imported from {path.name} by sopaudit sop import."] +
                   [f"guess: {g}" for g in guesses])
    if extra:
        text += yaml.safe_dump(extra, allow_unicode=True, sort_keys=False, width=100)
    loaded = sop_from_yaml(text, path=str(path.with_suffix(".yaml")))
    return Imported(loaded, text, guesses)


def _kind(text: str, marks: list[tuple[int, str]], notes: str) -> str:
    low = _norm(text)
    if low in ("mulai", "start", "begin"):
        return "start"
    if re.match(r"^(selesai|end|finish)\b", low):
        return "end"
    if any(m in DIAMONDS for _, m in marks) or low.endswith("?") or _JUMP.search(notes) or _END.search(notes):
        return "decision"
    return "step"


def _renumber(rows: list[ApRow], numbers: dict[int, int], path: Path) -> None:
    """Jumps name the table's own numbers; the flow reader counts rows from 1."""
    for i, r in enumerate(rows, start=1):
        r.label = i
        for attr in ("yes", "no", "goto"):
            v = getattr(r, attr)
            if isinstance(v, int):
                if v not in numbers:
                    raise SopAuditError(f"{path}: line {r.line}: jumps to No. {v}, which the table does not have")
                setattr(r, attr, NEXT if numbers[v] == i + 1 and attr != "goto" else numbers[v])


def _header_of(h: dict, path: Path, guesses: list[str]) -> Header:
    import datetime as dt

    def date(key):
        text = h.get(key, "")
        for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d %B %Y"):
            try:
                return dt.datetime.strptime(text.split()[0] if fmt != "%d %B %Y" else text, fmt).date()
            except (ValueError, IndexError):
                continue
        if text:
            guesses.append(f"{path}: cannot read the date '{text}' of {key}; left out")
        return None

    code = h.get("code") or slug(path.stem, "sop").upper()
    if "code" not in h:
        guesses.append(f"{path}: no 'Nomor SOP' in the header; the code is '{code}'")
    legal = tuple(re.sub(r"^\s*\d+[.)]\s*", "", line).strip() for line in h.get("legal_basis", "").splitlines()
                  if line.strip())
    return Header(code=code, title=h.get("title") or path.stem, unit=h.get("unit", ""), service=h.get("service", ""),
                  version=h.get("version", ""), issued=date("issued"), effective=date("effective"),
                  approver=h.get("approver", ""), legal_basis=legal, notes=h.get("notes", ""))


def _data_block(grids) -> dict:
    """What the exporter wrote under DATA_TITLE (role ids, service standard, rules), if present."""
    for _, grid in grids:
        flat = [c for row in grid for c in row]
        for i, c in enumerate(flat):
            if c.strip() == DATA_TITLE and i + 1 < len(flat):
                try:
                    data = yaml.safe_load(flat[i + 1])
                except yaml.YAMLError:
                    return {}
                return {k: v for k, v in data.items() if k in ("roles", "service_standard", "rules")} \
                    if isinstance(data, dict) else {}
    return {}


def import_sop(path: str | Path, *, sheet: str | None = None, table: int | None = None,
               strict: bool = False) -> Imported:
    """Read the SOP AP table of an .xlsx or .docx file into an SOP (validated) and its YAML."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        grids = grids_xlsx(path, sheet)
    elif suffix == ".docx":
        grids = grids_docx(path, table)
    else:
        raise InputFileError(f"{path}: sop import reads .xlsx or .docx (SOP AP tables); save the file as one of them")
    return read_table(path, grids, strict=strict)
