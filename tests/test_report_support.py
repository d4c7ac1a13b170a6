"""Shared by the report tests (no tests here): the demo audit, reading tables out of report.html,
and a synthetic AuditResult of a million cases built straight from tables (no alignment)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd

from conftest import DEMO_LOG, PASSPORT_SOP

DEMO_MAPPING = {"case": "no_permohonan", "activity": "tahapan", "time": "waktu", "resource": "petugas"}


def demo_result():
    import sopaudit as sa

    log = sa.read_log(DEMO_LOG, tz="Asia/Pontianak", **DEMO_MAPPING)
    return sa.audit(log, sa.load_sop(PASSPORT_SOP), processes=1)


class _Tables(HTMLParser):
    """Text of every cell of every table with an id; a table inside a cell is read as text of
    that cell (its cells separated by spaces), as is a line break."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.stack: list[str | None] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.nested = 0  # depth of tables inside the current cell

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.nested or (tag == "table" and self.cell is not None):
            self.nested += tag == "table"
            if tag in ("td", "th", "br", "tr"):
                self.cell.append(" ")
            return
        if tag == "table":
            self.stack.append(a.get("id"))
            if a.get("id"):
                self.tables[a["id"]] = []
        elif tag == "tr" and self.stack:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if self.nested:
            self.nested -= tag == "table"
            return
        if tag == "table" and self.stack:
            self.stack.pop()
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.stack and self.stack[-1]:
                self.tables[self.stack[-1]].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(html: str) -> dict[str, list[list[str]]]:
    p = _Tables()
    p.feed(html)
    return p.tables


def element_text(html: str, element_id: str) -> str:
    """Text inside the element with this id (first match; plain text, tags removed)."""
    m = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</(div|p|td|span)>', html, re.S)
    assert m, f"no element with id {element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", m.group(1)).split())


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def finding_rows(html: str, evidence: str = "evidence rows {rows}") -> list[list[str]]:
    """The findings embedded in the page, as the cells the page's script draws for each (case,
    kind, step, detail with its evidence rows, event row, time, officer); the browser tests
    check that the drawn table shows the same."""
    f = page_data(html)["findings"]
    out = []
    for r in f["rows"]:
        detail = f["texts"][r[3]] + (f" ({evidence.format(rows=r[7])})" if r[7] else "")
        out.append([r[0], f["kinds"][r[1]][1], f["steps"][r[2]][1], detail, r[4], r[5],
                    f["officers"][r[6]] if r[6] >= 0 else ""])
    return out


def big_result(sop, n_cases: int = 1_000_000):
    """An AuditResult of `n_cases` cases built straight from tables: 3 events a case, a finding on
    every third case (kinds and steps cycling)."""
    from sopaudit.auditing.result import AuditResult
    from sopaudit.core.kinds import ALL_KINDS

    rng = np.random.default_rng(7)
    ids = pd.array(np.char.add("2024PAS", np.char.zfill(np.arange(1, n_cases + 1).astype(str), 7)), dtype="string")
    steps = [s.id for s in sop.steps]
    names = {s.id: s.name for s in sop.steps}
    start = pd.Timestamp("2024-01-02 08:00", tz="Asia/Pontianak") + pd.to_timedelta(
        rng.integers(0, 360 * 86400, n_cases), unit="s")
    dev_idx = np.arange(0, n_cases, 3)
    kinds = np.array(["skipped", "out_of_order", "repeated", "unexpected"], dtype=object)[dev_idx % 4]
    codes = {"skipped": "skipped_start", "out_of_order": "ooo_path", "repeated": "repeated", "unexpected": "unexpected"}
    dstep = np.array(steps, dtype=object)[dev_idx % len(steps)]
    n_dev = len(dev_idx)
    dev = pd.DataFrame({
        "case_id": ids[dev_idx], "kind": kinds, "step": dstep, "step_name": [names[s] for s in dstep],
        "detail": "", "related": "", "expected_after": "",
        "event_row": pd.array(dev_idx * 3 + 2, dtype="Int64"),
        "event_time": start[dev_idx] + pd.Timedelta(minutes=10),
        "resource": pd.array(np.array(["Andi", "Budi", "Rina"], dtype=object)[dev_idx % 3], dtype="string"),
        "event_pos": pd.array(np.ones(n_dev, int), dtype="Int64"),
        "variant_id": pd.array(dev_idx % 50 + 1, dtype="Int64"),
        "detail_code": [codes[k] for k in kinds], "evidence_rows": "", "measured": np.nan, "limit": np.nan,
        "unit": "", "accepted": False, "accepted_reason": "",
    })
    conforming = np.ones(n_cases, bool)
    conforming[dev_idx] = False
    cases = pd.DataFrame({
        "case_id": ids, "status": np.where(conforming, "conforming", "deviating"), "conforming": conforming,
        "n_deviations": (~conforming).astype(int), "fitness": np.where(conforming, 1.0, 0.95),
        "end_reached": "complete", "n_events": 3, "start": start, "end": start + pd.Timedelta(minutes=20),
        "variant_id": 1, "incomplete": False,
    })
    log = pd.DataFrame({
        "case:concept:name": pd.array(np.repeat(ids.to_numpy(dtype=object), 3), dtype="string"),
        "concept:name": pd.array(np.tile(np.array(steps[:3], dtype=object), n_cases), dtype="string"),
        "time:timestamp": np.repeat(start, 3) + pd.to_timedelta(np.tile([0, 10, 20], n_cases), unit="min"),
        "org:resource": pd.array(np.tile(np.array(["pemohon", "Andi", "Budi"], dtype=object), n_cases), dtype="string"),
        "sopaudit:row": np.arange(1, 3 * n_cases + 1),
    })
    by_kind = {k: int((dev["kind"] == k).sum()) for k in ALL_KINDS}
    steps_t = pd.DataFrame([{"step": s.id, "step_name": s.name, "roles": ", ".join(s.roles), "cases_required": n_cases,
                             "cases_in_order": n_cases, "cases_skipped": 0, "cases_out_of_order": 0,
                             "cases_repeated": 0, "cases_waiting": 0} for s in sop.steps])
    metrics = {"cases": n_cases, "events": len(log), "variants": 50, "finished_cases": n_cases,
               "incomplete_cases": 0, "conforming_cases": int(conforming.sum()),
               "case_conformance_rate": float(conforming.mean()), "fitness": 0.98, "deviations": n_dev,
               "accepted_deviations": 0, "deviations_by_kind": by_kind, "cases_with_kind": dict(by_kind),
               "case_rate_by_kind": {k: v / n_cases for k, v in by_kind.items()}}
    prov = {"tool": "sopaudit", "tool_version": "0.1.0", "run_at": "2024-06-01T00:00:00+00:00", "seconds": 1.0,
            "inputs": [{"role": "log", "path": "big.csv", "sha256": "0" * 64}],
            "sop": {"code": sop.header.code, "title": sop.header.title, "version": sop.header.version},
            "parameters": {}, "log_rows_read": len(log), "log_rows_rejected": 0}
    variants = pd.DataFrame({"variant_id": [1], "variant": ["a → b → c"], "cases": [n_cases], "fitness": [1.0]})
    return AuditResult(cases=cases, deviations=dev, steps=steps_t, variants=variants, metrics=metrics,
                       provenance=prov, log=log, sop=sop)


def large_sop_yaml(n_steps: int = 32) -> str:
    """An SOP of `n_steps` steps in sequence, with a decision and two parallel steps, each step
    with a 30-minute time standard."""
    roles = ["loket", "penyelia", "kasi", "bendahara"]
    lines = ["sop:", f"  code: SOP-UJI-{n_steps}", "  title: Layanan uji berlangkah banyak", '  version: "1"',
             "  effective: 2024-01-02", "roles:"]
    lines += [f"  - {{id: {r}, name: Petugas {r.title()}}}" for r in roles]
    lines.append("steps:")
    for i in range(1, n_steps + 1):
        lines.append(f"  - {{id: l{i:02d}, name: Pemeriksaan berkas tahap {i}, role: {roles[i % 4]}, "
                     "time: {duration: 30 min}}")
    lines += ["flow:"] + [f"  - l{i:02d}" for i in range(1, 10)]
    lines += ["  - choice:", "      question: Berkas lengkap?", "      yes: [l10]", "      no: [l11]"]
    lines += [f"  - l{i:02d}" for i in range(12, 20)] + ["  - parallel: [[l20], [l21]]"]
    lines += [f"  - l{i:02d}" for i in range(22, n_steps + 1)]
    return "\n".join(lines) + "\n"


def large_audit(folder, cases: int = 1100):
    """A simulated audit of a 32-step SOP with more than 5,000 findings (about five a case: every
    case skips, swaps, repeats, adds and delays a step), in ~10 s."""
    import sopaudit as sa
    from sopaudit.simulation import default_scenario

    path = folder / "sop_32_steps.yaml"
    path.write_text(large_sop_yaml(), encoding="utf-8")
    sop = sa.load_sop(path)
    scenario = default_scenario(sop).with_rates(skipped=0.95, swap=0.95, repeated=0.95, unexpected=0.95,
                                                late_step=0.95)
    log, _ = sa.simulate(sop, cases=cases, seed=3, scenario=scenario)
    return sa.audit(log, sop, processes=1)
