"""The SOP as the SOP AP table auditors know (Permenpan-RB 35/2012): one row per step with
No, Kegiatan, Pelaksana, Kelengkapan, Waktu, Output and Keterangan, as plain rows and as text
for a terminal."""

from __future__ import annotations

import textwrap

from sopaudit.sop.model import SOP, Choice, Duration, Loop, Optional_, StepRef, may_end, walk

COLUMNS = ("No", "Kegiatan", "Pelaksana", "Kelengkapan", "Waktu", "Output", "Keterangan")
_UNIT_ID = {"minutes": "menit", "hours": "jam", "working_days": "hari kerja", "days": "hari"}


def duration_id(d: Duration) -> str:
    """A time standard in Bahasa Indonesia, e.g. '15 menit', '4 hari kerja'."""
    return f"{d.value:g} {_UNIT_ID.get(d.unit, d.unit)}"


def _flow_notes(sop: SOP) -> dict[str, list[str]]:
    """Per step, what the flow says about it: optional, repeated, or answering a decision."""
    notes: dict[str, list[str]] = {}

    def first_steps(node) -> list[str]:
        return [n.step for n in walk(node) if isinstance(n, StepRef)][:1]

    if sop.flow is None:
        return notes
    for node in walk(sop.flow):
        if isinstance(node, Optional_):
            for s in first_steps(node.body):
                notes.setdefault(s, []).append("opsional")
        elif isinstance(node, Choice):
            for answer, branch in (("ya", node.yes), ("tidak", node.no)):
                for s in first_steps(branch):
                    notes.setdefault(s, []).append(f"jika '{node.question}' {answer}")
        elif isinstance(node, Loop):
            again = "ya" if node.again == "yes" else "tidak"
            for s in first_steps(node.body):
                notes.setdefault(s, []).append(f"diulang jika '{node.question}' {again}")
            if node.redo is not None:
                for s in first_steps(node.redo):
                    back = "lalu kembali atau berakhir" if may_end(node.redo) else "lalu kembali"
                    notes.setdefault(s, []).append(f"jika '{node.question}' {again}, {back}")
    return notes


def sop_rows(sop: SOP) -> list[dict[str, str]]:
    """One row per step, in the order of the file's step list (the SOP AP numbering)."""
    roles = {r.id: r.name for r in sop.roles}
    flow_notes = _flow_notes(sop)
    rows = []
    for i, step in enumerate(sop.steps, start=1):
        t = step.time
        times = []
        if t.duration:
            times.append(duration_id(t.duration))
        if t.wait:
            times.append(f"tunggu {duration_id(t.wait)}")
        waktu = ", ".join(times) + (" *" if t.inferred and times else "")
        notes = list(dict.fromkeys(flow_notes.get(step.id, [])))
        if step.notes:
            notes.append(step.notes)
        rows.append({
            "No": str(i),
            "Kegiatan": step.name,
            "Pelaksana": ", ".join(roles.get(r, r) for r in step.roles),
            "Kelengkapan": "; ".join(step.inputs),
            "Waktu": waktu,
            "Output": step.output,
            "Keterangan": "; ".join(notes),
        })
    return rows


def format_table(rows: list[dict[str, str]], width: int = 120) -> str:
    """Rows as a text table that fits `width` characters, long cells wrapped."""
    n = len(COLUMNS)
    natural = [max([len(c)] + [len(r[c]) for r in rows]) for c in COLUMNS]
    usable = max(width - 3 * (n - 1), n * 4)
    widths = list(natural)
    # Shrink the widest column until the table fits; no column narrower than its heading
    # (or 4 characters for the number).
    floor = [max(len(c), 4) if c != "No" else 3 for c in COLUMNS]
    while sum(widths) > usable:
        k = max(range(n), key=lambda j: (widths[j] - floor[j], widths[j]))
        if widths[k] <= floor[k]:
            break
        widths[k] -= 1
    sep = "-+-".join("-" * w for w in widths)
    lines = [" | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip(), sep]
    for r in rows:
        cells = [textwrap.wrap(r[c], w, break_on_hyphens=False) or [""] for c, w in zip(COLUMNS, widths, strict=True)]
        for k in range(max(len(c) for c in cells)):
            lines.append(" | ".join((c[k] if k < len(c) else "").ljust(w)
                                    for c, w in zip(cells, widths, strict=True)).rstrip())
        lines.append(sep)
    return "\n".join(lines)


def header_lines(sop: SOP) -> list[str]:
    """The header of the SOP, the service standards and rules, as lines of text."""
    h = sop.header
    out = [f"{h.code}  {h.title}".strip()]
    for label, value in (("Unit", h.unit), ("Layanan", h.service), ("Versi", h.version),
                         ("Tanggal pembuatan", h.issued), ("Tanggal efektif", h.effective),
                         ("Disahkan oleh", h.approver)):
        if value:
            out.append(f"{label}: {value}")
    if h.legal_basis:
        out.append("Dasar hukum:")
        out += [f"  {i}. {b}" for i, b in enumerate(h.legal_basis, start=1)]
    for ss in sop.service_standards:
        line = f"Standar pelayanan: {duration_id(ss.limit)} dari '{ss.from_step}' sampai '{ss.to_step}'"
        if ss.per_value:
            line += " (" + ", ".join(f"{ss.attribute}={v}: {duration_id(d)}" for v, d in ss.per_value) + ")"
        out.append(line)
        for a, b in ss.pauses:
            out.append(f"  jeda: dari '{a}' sampai '{b}'")
    for r in sop.rules:
        out.append(f"Aturan {r.id}: {r.kind} {', '.join(r.steps)}"
                   + (f" (count {r.count})" if r.count is not None else "")
                   + (f" - {r.description}" if r.description else ""))
    if h.notes:
        out.append("Catatan: " + " ".join(h.notes.split()))
    return out
