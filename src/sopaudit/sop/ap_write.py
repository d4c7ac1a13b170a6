"""`sopaudit sop export --to xlsx|docx`: the SOP AP table an office revises where it keeps it.

The header block, then the table of Permenpan-RB 35/2012: No, Kegiatan, one Pelaksana column
per role holding the flowchart symbol of the row (□ process, ◇ decision, ⬭ start and end),
Mutu Baku (Kelengkapan, Waktu, Output) and Keterangan, where each decision says where "Ya" and
"Tidak" lead and each step its code and aliases, so that `sopaudit sop import` reads the same
SOP back. In the workbook the flowchart with its arrows is also drawn as a picture lying on the
Pelaksana columns (sop/ap_chart.py); the importer reads the cells, never the picture. What the SOP AP form has no place for (service standard, rules) follows the table
as YAML under "Data sopaudit".
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from sopaudit.drawing.png import render_png
from sopaudit.sop.ap_chart import LANE_GAP, Geometry, chart_layout, lanes_needed
from sopaudit.sop.ap_rows import NEXT, ApRow, linearise
from sopaudit.sop.model import SOP, End
from sopaudit.sop.table import duration_id
from sopaudit.sop.yaml_write import sop_document

SYMBOLS = {"step": "□", "decision": "◇", "start": "⬭", "end": "⬭"}
MUTU = ("Kelengkapan", "Waktu", "Output")
ROLE_WIDTH = 14  # characters of a Pelaksana column
DATA_TITLE = "Data sopaudit (standar pelayanan dan aturan; jangan diubah bentuknya)"


def header_pairs(sop: SOP) -> list[tuple[str, str]]:
    h = sop.header
    pairs = [("Nomor SOP", h.code), ("Nama SOP", h.title), ("Unit", h.unit), ("Layanan", h.service),
             ("Versi", h.version), ("Tanggal Pembuatan", h.issued.isoformat() if h.issued else ""),
             ("Tanggal Efektif", h.effective.isoformat() if h.effective else ""), ("Disahkan oleh", h.approver),
             ("Dasar Hukum", "\n".join(f"{i}. {b}" for i, b in enumerate(h.legal_basis, start=1))),
             ("Catatan", h.notes)]
    return [(k, v) for k, v in pairs if v]


def _target(row: ApRow, value) -> str:
    if isinstance(value, End):
        return f"selesai ({value.id})"
    number = row.label + 1 if value == NEXT else int(value)
    return f"{'kembali' if number <= row.label else 'lanjut'} ke No. {number}"


def table_rows(sop: SOP) -> list[dict]:
    """The rows as cells: No, Kegiatan, the role that holds the symbol, Mutu Baku, Keterangan."""
    rows = linearise(sop)
    steps = {s.id: s for s in sop.steps}
    out = []
    last_roles: tuple[str, ...] = sop.steps[0].roles[:1] if sop.steps and sop.steps[0].roles else ()
    for r in rows:
        notes, inputs, waktu, output, roles = [], "", "", "", last_roles
        if r.kind == "step":
            s = steps[r.step]
            roles = s.roles or last_roles
            last_roles = roles
            inputs, output = "; ".join(s.inputs), s.output
            parts = ([duration_id(s.time.duration)] if s.time.duration else []) + \
                    ([f"tunggu {duration_id(s.time.wait)}"] if s.time.wait else [])
            waktu = ", ".join(parts) + (" *" if s.time.inferred and parts else "")
            if r.optional:
                notes.append("opsional" if r.optional == "start" else "opsional (lanjutan)")
            if r.goto is not None:
                notes.append(_target(r, r.goto))
            notes.append(f"kode: {s.id}")
            if s.aliases:
                notes.append("alias: " + ", ".join(s.aliases))
            if s.notes:
                notes.append(" ".join(s.notes.split()))
        elif r.kind == "decision":
            notes += [f"Ya: {_target(r, r.yes)}", f"Tidak: {_target(r, r.no)}"]
        elif r.kind == "end" and r.end:
            notes.append(f"akhir: {r.end}")
        text = r.text if r.kind != "end" or not r.end else f"Selesai ({r.text})"
        out.append({"No": str(r.label), "Kegiatan": text, "symbol": SYMBOLS[r.kind], "roles": roles,
                    "Kelengkapan": inputs, "Waktu": waktu, "Output": output, "Keterangan": "; ".join(notes)})
    return out


def data_yaml(sop: SOP) -> str:
    doc = sop_document(sop)
    extra = {k: doc[k] for k in ("roles", "service_standard", "rules") if doc.get(k)}
    return yaml.safe_dump(extra, allow_unicode=True, sort_keys=False, width=100) if extra else ""


def write_xlsx(sop: SOP, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "SOP AP"
    roles = [r for r in sop.roles]
    n_cols = 2 + len(roles) + len(MUTU) + 1
    row = 1
    for key, value in header_pairs(sop):
        ws.cell(row, 1, key).font = Font(bold=True)
        ws.cell(row, 3, value).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=n_cols)
        row += 1
    row += 1
    top, sub = row, row + 1
    thin = Side(style="thin")
    heads = [("No", 1, 1), ("Kegiatan", 2, 2), ("Pelaksana", 3, 2 + len(roles)),
             ("Mutu Baku", 3 + len(roles), 2 + len(roles) + len(MUTU)), ("Keterangan", n_cols, n_cols)]
    for text, c1, c2 in heads:
        ws.cell(top, c1, text).font = Font(bold=True)
        if text in ("No", "Kegiatan", "Keterangan"):
            ws.merge_cells(start_row=top, start_column=c1, end_row=sub, end_column=c2)
        elif c2 > c1:
            ws.merge_cells(start_row=top, start_column=c1, end_row=top, end_column=c2)
    for i, r in enumerate(roles):
        ws.cell(sub, 3 + i, r.name).font = Font(bold=True)
    for i, m in enumerate(MUTU):
        ws.cell(sub, 3 + len(roles) + i, m).font = Font(bold=True)
    role_col = {r.id: 3 + i for i, r in enumerate(roles)}
    cells_of = table_rows(sop)
    for k, cells in enumerate(cells_of, start=sub + 1):
        ws.cell(k, 1, int(cells["No"]))
        ws.cell(k, 2, cells["Kegiatan"])
        for rid in cells["roles"]:
            ws.cell(k, role_col[rid], cells["symbol"]).alignment = Alignment(horizontal="center")
        for i, m in enumerate(MUTU):
            ws.cell(k, 3 + len(roles) + i, cells[m])
        ws.cell(k, n_cols, cells["Keterangan"])
        last = k
    for rr in ws.iter_rows(min_row=top, max_row=last, max_col=n_cols):
        for c in rr:
            c.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            c.alignment = Alignment(wrap_text=True, vertical="top", horizontal=c.alignment.horizontal)
    widths = [5, 40] + [ROLE_WIDTH] * len(roles) + [24, 16, 20, 40]
    rows = linearise(sop)
    lane_room = lanes_needed(rows) * LANE_GAP + 4
    if roles:  # room right of the last role's symbols for the lines of the jumps
        widths[1 + len(roles)] += math.ceil(lane_room / 7)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    heights = [_row_height(cells, widths) for cells in cells_of]
    for k, pt in enumerate(heights, start=sub + 1):
        ws.row_dimensions[k].height = pt
    if roles:
        _add_chart(ws, sop, rows, cells_of, widths, heights, lane_room, first_row=sub + 1)
    extra = data_yaml(sop)
    if extra:
        ws2 = wb.create_sheet("sopaudit")
        ws2.cell(1, 1, DATA_TITLE)
        ws2.cell(2, 1, extra)
    wb.save(path)
    return path


def _row_height(cells: dict, widths: list[int]) -> float:
    """Points for a table row: room for its wrapped texts and for its flowchart symbol."""
    texts = [(cells["Kegiatan"], widths[1])] + [(cells[k], w) for k, w in zip((*MUTU, "Keterangan"), widths[-4:],
                                                                              strict=True)]
    lines = max(sum(math.ceil(max(len(part), 1) / max(w - 2, 1)) for part in str(t).split("\n")) for t, w in texts)
    return max(32.0, 13.5 * lines + 6)


def _add_chart(ws, sop: SOP, rows: list[ApRow], cells_of: list[dict], widths: list[int], heights: list[float],
               lane_room: float, first_row: int) -> None:
    """The flowchart as a picture lying on the Pelaksana columns of the table rows: a two-cell
    anchor stretches it over exactly those cells, whatever the viewer's pixel sizes."""
    import io

    from openpyxl.drawing.image import Image
    from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor

    n_roles = len(sop.roles)
    px = [w * 7 + 5 for w in widths[2:2 + n_roles]]  # Excel's pixels of a column width
    lefts = [sum(px[:i]) for i in range(n_roles)]
    columns = [(x, x + w) for x, w in zip(lefts, px, strict=True)]
    columns[-1] = (columns[-1][0], columns[-1][1] - lane_room)
    tops = [sum(heights[:i]) * 4 / 3 for i in range(len(heights) + 1)]
    geo = Geometry(tuple(columns), tuple(zip(tops, tops[1:], strict=False)), float(sum(px)))
    index = {r.id: i for i, r in enumerate(sop.roles)}
    layout = chart_layout(rows, [tuple(index[r] for r in cells["roles"]) for cells in cells_of], geo)
    img = Image(io.BytesIO(render_png(layout)))
    img.anchor = TwoCellAnchor(editAs="twoCell", _from=AnchorMarker(col=2, row=first_row - 1),
                               to=AnchorMarker(col=2 + n_roles, row=first_row - 1 + len(rows)))
    ws.add_image(img)


def write_docx(sop: SOP, path: Path) -> Path:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    pairs = header_pairs(sop)
    head = doc.add_table(rows=len(pairs), cols=2)
    head.style = "Table Grid"
    for i, (k, v) in enumerate(pairs):
        head.cell(i, 0).text, head.cell(i, 1).text = k, v
    doc.add_paragraph("")
    roles = list(sop.roles)
    n_cols = 2 + len(roles) + len(MUTU) + 1
    rows = table_rows(sop)
    t = doc.add_table(rows=2 + len(rows), cols=n_cols)
    t.style = "Table Grid"
    t.cell(0, 0).merge(t.cell(1, 0)).text = "No"
    t.cell(0, 1).merge(t.cell(1, 1)).text = "Kegiatan"
    t.cell(0, 2).merge(t.cell(0, 1 + len(roles))).text = "Pelaksana"
    t.cell(0, 2 + len(roles)).merge(t.cell(0, 1 + len(roles) + len(MUTU))).text = "Mutu Baku"
    t.cell(0, n_cols - 1).merge(t.cell(1, n_cols - 1)).text = "Keterangan"
    for i, r in enumerate(roles):
        t.cell(1, 2 + i).text = r.name
    for i, m in enumerate(MUTU):
        t.cell(1, 2 + len(roles) + i).text = m
    role_col = {r.id: 2 + i for i, r in enumerate(roles)}
    for k, cells in enumerate(rows, start=2):
        t.cell(k, 0).text = cells["No"]
        t.cell(k, 1).text = cells["Kegiatan"]
        for rid in cells["roles"]:
            t.cell(k, role_col[rid]).text = cells["symbol"]
        for i, m in enumerate(MUTU):
            t.cell(k, 2 + len(roles) + i).text = cells[m]
        t.cell(k, n_cols - 1).text = cells["Keterangan"]
    for row in t.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8)
    extra = data_yaml(sop)
    if extra:
        doc.add_paragraph(DATA_TITLE)
        doc.add_paragraph(extra)
    doc.save(path)
    return path
