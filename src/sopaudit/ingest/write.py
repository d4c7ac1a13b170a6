"""Write the canonical event log: Parquet (with the quality report in its metadata) or XES."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from sopaudit.core.columns import CASE, INFO_KEY, log_info
from sopaudit.core.errors import InputFileError

FORMATS = (".parquet", ".xes", ".xes.gz")


def write_log(log: pd.DataFrame, path: str | Path, case_attributes: list[str] | None = None) -> Path:
    """Write `log` to `path` (.parquet, .xes or .xes.gz) and return the path.

    Parquet keeps every column and type (tz-aware times, categories) and stores the LogInfo
    (mapping, rejected rows, quality report) as JSON under the key 'sopaudit'. XES goes through
    pm4py; `case_attributes` (default: those of the mapping) become trace attributes.
    """
    path = Path(path)
    name = path.name.lower()
    if not name.endswith(FORMATS):
        raise InputFileError(f"{path}: write the log as .parquet, .xes or .xes.gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    info = log_info(log)
    plain = log.copy(deep=False)
    plain.attrs = {}
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(plain, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[INFO_KEY.encode()] = json.dumps({
            "path": info.path, "sha256": info.sha256, "tz": info.tz, "mapping": info.mapping,
            "rows_read": info.rows_read, "rejected": [list(r) for r in info.rejected],
            "quality": info.quality,
        }, ensure_ascii=False, default=str).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path
    import pm4py

    attrs = case_attributes if case_attributes is not None else list(info.mapping.get("case_attributes", {}).values())
    renamed = {a: f"case:{a}" for a in attrs if a in plain.columns and not a.startswith("case:")}
    out = plain.rename(columns=renamed)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    out[CASE] = out[CASE].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # pm4py's own writer: with rustxes installed pm4py would pick the Rust exporter, which
        # writes microsecond timestamps (pandas' default unit) as if they were nanoseconds.
        pm4py.write_xes(out, str(path), case_id_key=CASE, variant_str="line_by_line", show_progress_bar=False)
    return path


def write_quality(log: pd.DataFrame, path: str | Path) -> Path:
    """Write the log's data-quality report (LogInfo.quality) as JSON; returns the path."""
    return write_quality_dict(log_info(log).quality, path)


def write_quality_dict(quality: dict, path: str | Path) -> Path:
    """Write a data-quality report (the dict of LogInfo.quality) as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(quality, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def write_rejected(rejected, path: str | Path) -> Path | None:
    """Write the rows the ingest could not read (LogInfo.rejected: (row, reason) pairs) as CSV;
    None when there are none."""
    if not rejected:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(list(rejected), columns=["row", "reason"]).to_csv(path, index=False, lineterminator="\n")
    return path
