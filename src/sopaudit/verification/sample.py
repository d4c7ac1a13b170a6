"""Draw a reproducible, stratified random sample of an audit's findings and conforming cases.

The population of findings is the one every report counts (report.figures.open_findings):
findings of deviating kinds that are not accepted; `incomplete` notes are not findings. The
population of conforming cases is the cases with status `conforming`. Within each stratum (kind,
or kind and step, or kind and officer) items are put in a fixed order (case, event row, step)
and shuffled with numpy's PCG64 generator seeded by `seed`, so the same audit and seed always
give the same sample; the seed is written into the worksheet.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, LABEL, RESOURCE, ROW, TIME
from sopaudit.core.errors import InputFileError, SopAuditError
from sopaudit.core.kinds import ALL_KINDS, DEVIATING
from sopaudit.verification.worksheet import EVIDENCE_COLUMNS, ITEM_COLUMNS

STRATA = ("kind", "step", "officer")  # "kind" is always part of the stratum
CONFORMING = "conforming"  # stratum (and `kind` of the items) of the conforming-case sample



class SampleError(SopAuditError):
    """A verification sample that cannot be drawn as asked (bad size, unreadable audit folder)."""


@dataclass
class VerificationSample:
    """The drawn sample: one row per item (`items`), the event rows behind each item
    (`evidence`), and per stratum the population and how many were drawn (`strata`)."""

    items: pd.DataFrame
    evidence: pd.DataFrame
    strata: pd.DataFrame
    seed: int
    size: int
    per_stratum: bool
    by: tuple[str, ...]
    source: dict = field(default_factory=dict)

    def write(self, path: str | Path, lang: str = "id") -> Path:
        """Write the worksheet (XLSX) the auditor fills in; returns its path."""
        from sopaudit.verification.worksheet import write_worksheet

        return write_worksheet(self, path, lang=lang)


def _tables(audit) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, dict]:
    """(deviations, cases, events or None, source) from an AuditResult or an audit folder."""
    if hasattr(audit, "deviations") and hasattr(audit, "cases"):
        p = audit.provenance
        source = {"sop": (p.get("sop") or {}).get("code", ""), "run_at": p.get("run_at", ""),
                  "inputs": p.get("inputs", [])}
        return audit.deviations, audit.cases, audit.log, source
    folder = Path(audit)
    need = [folder / "deviations.csv", folder / "cases.csv"]
    missing = [p.name for p in need if not p.is_file()]
    if missing:
        raise InputFileError(
            f"{folder} is not an audit folder: {', '.join(missing)} missing. Pass the --out folder of "
            "`sopaudit audit` written with the csv format (the default).")

    def read(path: Path) -> pd.DataFrame:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        for col in df.columns:  # undo the CSV's formula neutralising (an apostrophe before = + - @)
            df[col] = df[col].str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
        return df

    dev, cases = read(need[0]), read(need[1])
    for col in ("kind", "case_id"):
        if col not in dev.columns:
            raise InputFileError(f"{need[0]} has no column '{col}'; it was not written by sopaudit audit")
    if "status" not in cases.columns:
        raise InputFileError(f"{need[1]} has no column 'status'; it was not written by sopaudit audit")
    dev["accepted"] = dev.get("accepted", pd.Series("False", index=dev.index)).str.lower().eq("true")
    source: dict = {"folder": str(folder)}
    summary = folder / "summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text(encoding="utf-8"))
        source.update(sop=(s.get("sop") or {}).get("code", ""), run_at=s.get("run_at", ""),
                      inputs=s.get("inputs", []))
    return dev, cases, None, source


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("")


def _findings(dev: pd.DataFrame) -> pd.DataFrame:
    accepted = dev["accepted"].fillna(False).astype(bool) if "accepted" in dev else False
    f = dev[dev["kind"].isin(DEVIATING) & ~accepted]
    out = pd.DataFrame({c: _text(f[c]) if c in f else pd.Series("", index=f.index, dtype="string")
                        for c in ["kind", "case_id", "step", "step_name", "detail", "event_row",
                                  "evidence_rows", "event_time", "resource"]})
    out["event_row"] = out["event_row"].str.replace(r"\.0$", "", regex=True)  # Int64 read back as float
    return out


def _allocate(sizes: pd.Series, total: int) -> pd.Series:
    """Proportional allocation of `total` draws to strata (largest remainder), at least one per
    stratum while draws last, never more than a stratum holds."""
    sizes = sizes[sizes > 0]
    take = pd.Series(0, index=sizes.index)
    total = min(total, int(sizes.sum()))
    if total <= 0:
        return take
    if total >= len(sizes):
        take[:] = 1
    else:  # fewer draws than strata: the largest strata get one
        order = sorted(sizes.index, key=lambda k: (-int(sizes[k]), str(k)))
        take[order[:total]] = 1
        return take
    while take.sum() < total:
        room = sizes - take
        quota = (total * sizes / sizes.sum()) - take
        quota[room <= 0] = -np.inf
        best = sorted(quota.index, key=lambda k: (-quota[k], str(k)))[0]
        take[best] += 1
    return take


def verification_sample(
    audit,
    size: int,
    *,
    per_kind: bool = False,
    by: tuple[str, ...] | list[str] = (),
    conforming: int | None = None,
    seed: int | None = None,
    log: pd.DataFrame | None = None,
) -> VerificationSample:
    """A reproducible stratified random sample of the findings and conforming cases of `audit`
    (an :class:`sopaudit.AuditResult` or the folder `sopaudit audit` wrote).

    `size` findings in all, allocated to the strata in proportion to their findings (at least
    one each), or `size` per stratum with `per_kind=True`. Strata are the finding kinds, split
    further by `by` ("step" and/or "officer"). `conforming` conforming cases are drawn too
    (default: `size`), to estimate deviations the audit missed. `seed` makes the draw
    reproducible (default: a fresh random seed, recorded in the sample). `log`: the audited
    event log (as `sopaudit.read_log` returns it), so that the evidence lists every event of
    each sampled case when `audit` is a folder; it must be the file the audit read (same
    SHA-256), else SampleError.

    Examples
    --------
    >>> import sopaudit as sa
    >>> log = sa.read_log("event_logs/paspor_demo_synthetic.csv", case="no_permohonan",
    ...                   activity="tahapan", time="waktu", resource="petugas", tz="Asia/Pontianak")
    >>> result = sa.audit(log, sa.load_sop("reference_models/paspor_baru_mpaspor.yaml"))
    >>> s = sa.verification_sample(result, 10, seed=7)
    >>> s.items["sample"].value_counts().to_dict()
    {'finding': 10, 'conforming': 10}
    """
    if int(size) < 1:
        raise SampleError(f"--size {size}: the sample needs at least one finding")
    by = tuple(dict.fromkeys(by))
    unknown = [b for b in by if b not in ("step", "officer")]
    if unknown:
        raise SampleError(f"cannot stratify by {', '.join(unknown)}; use step and/or officer")
    conforming = int(size) if conforming is None else int(conforming)
    if conforming < 0:
        raise SampleError(f"--conforming {conforming} must not be negative")
    seed = int(seed) if seed is not None else secrets.randbelow(2**31)
    dev, cases, events, source = _tables(audit)
    if log is not None:
        events = _checked_log(log, source)
    findings = _findings(dev)
    findings["officer"] = findings["resource"]
    key_cols = ["kind", *by]
    findings["stratum"] = findings[key_cols].agg(" | ".join, axis=1) if len(findings) else pd.Series(dtype=str)
    kind_rank = {k: i for i, k in enumerate(ALL_KINDS)}
    findings["_k"] = findings["kind"].map(kind_rank)
    findings["_row"] = pd.to_numeric(findings["event_row"], errors="coerce")
    findings = findings.sort_values(["_k", "stratum", "case_id", "_row", "step", "detail"], kind="mergesort")
    sizes = findings.groupby("stratum", sort=False).size()
    take = sizes.clip(upper=int(size)) if per_kind else _allocate(sizes, int(size))
    rng = np.random.Generator(np.random.PCG64(seed))
    picked = []
    for stratum in sizes.index:  # strata in kind order: the same seed gives the same draw
        rows = findings[findings["stratum"] == stratum]
        order = rng.permutation(len(rows))[: int(take.get(stratum, 0))]
        picked.append(rows.iloc[np.sort(order)])
    sample = pd.concat(picked) if picked else findings.iloc[:0]
    sample = sample.assign(sample="finding")

    ok = cases[_text(cases["status"]) == CONFORMING].sort_values("case_id", kind="mergesort")
    n_conf = min(conforming, len(ok))
    order = rng.permutation(len(ok))[:n_conf]
    chosen = ok.iloc[np.sort(order)]
    conf = pd.DataFrame({"case_id": _text(chosen["case_id"]), "kind": CONFORMING, "stratum": CONFORMING,
                         "sample": "conforming"})
    paths = dict(zip(_text(cases["case_id"]), _text(cases["path"]) if "path" in cases else "", strict=False))
    items = pd.concat([sample, conf], ignore_index=True)
    items["case_path"] = items["case_id"].map(paths).fillna("")
    items["item"] = [f"S{i:04d}" for i in range(1, len(items) + 1)]
    for col in ITEM_COLUMNS:
        if col not in items:
            items[col] = ""
    items = items[ITEM_COLUMNS].fillna("").astype(str)
    strata = pd.DataFrame({"stratum": list(sizes.index) + [CONFORMING],
                           "population": [int(v) for v in sizes] + [len(ok)],
                           "sampled": [int(take.get(s, 0)) for s in sizes.index] + [n_conf]})
    strata["kind"] = [s.split(" | ")[0] for s in strata["stratum"]]
    source["drawn_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return VerificationSample(items=items, evidence=_evidence(items, events), strata=strata, seed=seed,
                              size=int(size), per_stratum=bool(per_kind), by=by, source=source)


def _checked_log(log: pd.DataFrame, source: dict) -> pd.DataFrame:
    """The log, when it is the one the audit read (by the SHA-256 of its file)."""
    from sopaudit.core.columns import log_info

    audited = [f.get("sha256") for f in source.get("inputs", []) if f.get("role") == "log"]
    given = log_info(log).sha256
    if audited and audited[0] and given and given != audited[0]:
        raise SampleError(f"the log given ({log_info(log).path}) is not the file the audit read (SHA-256 "
                          f"{given[:12]}... against {audited[0][:12]}... in summary.json); give the audited log")
    return log


def _evidence(items: pd.DataFrame, events: pd.DataFrame | None) -> pd.DataFrame:
    """The event rows of each sampled case: every event when the log is at hand (an
    AuditResult), else the rows the finding names (event row and evidence rows)."""
    if events is None or not len(items):
        rows = []
        for r in items.itertuples(index=False):
            nums = [x for x in [r.event_row, *r.evidence_rows.split("; ")] if x]
            for n in sorted(set(nums), key=lambda x: (len(x), x)):
                rows.append((r.item, r.case_id, n, "", "", "", ""))
        return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)
    ev = events[events[CASE].astype("string").isin(set(items["case_id"]))]
    ev = ev.sort_values([CASE, TIME] + ([ROW] if ROW in ev else []), kind="mergesort")
    table = pd.DataFrame({
        "case_id": ev[CASE].astype(str),
        "row": ev[ROW].astype("Int64").astype(str) if ROW in ev else "",
        "time": ev[TIME].astype(str),
        "activity": (ev[LABEL] if LABEL in ev else ev[ACTIVITY]).astype(str),
        "step": ev[ACTIVITY].astype(str),
        "resource": ev[RESOURCE].astype("string").fillna("").astype(str) if RESOURCE in ev else "",
    })
    out = items[["item", "case_id"]].merge(table, on="case_id", how="inner", sort=False)
    return out[EVIDENCE_COLUMNS].reset_index(drop=True)
