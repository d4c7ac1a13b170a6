"""An opened export (`Source`): its columns, Arrow batches and row numbers, and what the reader
noticed; shared by every reader (readers.py, csvfile.py, xlsxfile.py) and the build."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa


@dataclass
class SheetRefs:
    """Where each data row of a several-sheet workbook stands: its sheet and sheet row."""

    names: list[str]  # the sheets read, in order
    rows: np.ndarray  # data row numbers (sorted), as in sopaudit:row
    sheet: np.ndarray  # index into names, per entry of rows
    sheet_row: np.ndarray  # the row number Excel shows, per entry of rows

    def at(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """(sheet index, sheet row) of data row numbers."""
        k = np.searchsorted(self.rows, np.asarray(rows, dtype=np.int64))
        return self.sheet[k], self.sheet_row[k]

    def ref(self, row: int) -> str:
        """'Maret!R17' for a data row number."""
        s, r = self.at([row])
        return f"{self.names[int(s[0])]}!R{int(r[0])}"


@dataclass
class Conversion:
    """What turning a source into one event per row did (the wide layout, a date and a time column
    joined): the build reports it instead of what it would compute from the converted rows."""

    rows_read: int  # rows of the source (not events)
    rejected: list[tuple[int, str]]  # (row, reason) of milestones/rows that could not be read
    quality: dict  # sections added to the quality report
    time_formats: dict  # family label -> values read
    mapping: dict  # the mapping as applied, as the source's columns name it
    timed: np.ndarray | None = None  # per converted row: the time of day is known


@dataclass
class Source:
    """An opened export: its columns, batches and row numbers."""

    where: str  # the file path (or database URL without password), for messages
    kind: str
    columns: list[str]
    batches: Iterator[pa.RecordBatch]
    sha256: str  # of the file (computed by the caller from hash_path when empty)
    details: dict = field(default_factory=dict)
    # (data row, reason) of rows the reader could not split into the columns (CSV only)
    invalid: list[tuple[int, str]] = field(default_factory=list)
    # data row -> the fields of such a row as far as they split: names the case it belonged to
    invalid_fields: dict[int, list[str]] = field(default_factory=dict)
    # explicit data row numbers of the batch rows, when they are not 1, 2, 3... (XLSX blank rows)
    rows: list[int] | None = None
    hash_path: str | None = None  # the file whose SHA-256 the caller computes (alongside the read)
    # sheet and sheet row of every data row, when several sheets were read as one table
    sheet_refs: SheetRefs | None = None
    # what a layout conversion (wide.py) did before the build: set by the conversion only
    conversion: Conversion | None = None
    # columns the build keeps as codes (activity, resource, attributes), named before it reads the
    # batches: a reader may hand them over dictionary-encoded (the CSV reader does, in its parsing
    # threads, off the build's thread)
    encode: set[str] = field(default_factory=set)

    def row_numbers(self, n: int) -> np.ndarray:
        """The data row number of each of the `n` rows the batches held, in order."""
        if self.rows is not None:
            return np.asarray(self.rows, dtype=np.int64)
        numbers = np.arange(1, n + len(self.invalid) + 1, dtype=np.int64)
        if self.invalid:
            numbers = np.delete(numbers, np.asarray(sorted(r for r, _ in self.invalid)) - 1)
        return numbers


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def clean_names(names: list, where: str) -> tuple[list[str], list[str]]:
    """Header names trimmed; empty ones named column_N and repeated ones suffixed _2, _3...
    Returns the names and notes saying what was changed."""
    out: list[str] = []
    notes: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(names, start=1):
        name = "" if raw is None else str(raw).strip()
        if not name:
            name = f"column_{i}"
            notes.append(f"column {i} has no name in the header; called it {name}")
        elif name != str(raw):
            notes.append(f"column {i} name {str(raw)!r} has surrounding spaces; called it {name!r}")
        if name in seen:
            seen[name] += 1
            new = f"{name}_{seen[name]}"
            notes.append(f"column {i} repeats the name {name!r}; called it {new}")
            name = new
        seen.setdefault(name, 1)
        out.append(name)
    return out, notes
