"""Reading the small hand-written tables users give next to a log (closures, role assignments).

Both are short CSV or YAML files typed by office staff, so they share one way of opening and
splitting them and one set of messages: the file must exist, have a known suffix and be UTF-8
text; a CSV has a header line and comma or semicolon cells; a YAML file is a list, optionally
under one top-level key.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from sopaudit.core.errors import InputFileError
from sopaudit.core.yamlguard import check_yaml

TABLE_SUFFIXES = (".csv", ".txt", ".yaml", ".yml")


def read_small_table_text(path: Path, what: str) -> tuple[str, str]:
    """The lower-case suffix and UTF-8 text (BOM removed) of a CSV/YAML table file.

    `what` names the file in messages ("closures", "role assignments"). Raises InputFileError
    when the file is missing, has another suffix or is not UTF-8.
    """
    if not path.is_file():
        raise InputFileError(f"{path}: the {what} file does not exist; check the path")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputFileError(f"{path}: unknown {what} file type; use .csv, .yaml or .yml")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(
            f"{path}: not UTF-8 text; save the file as UTF-8 (CSV UTF-8 in Excel)"
        ) from None
    return suffix, text


def csv_table(path: Path, text: str, empty_hint: str) -> tuple[int, list[str], str, list[tuple[int, list[str]]]]:
    """Split a small CSV table: (header line number, lower-cased header, delimiter, rows).

    The header is the first line that is neither blank nor a '#' comment; the delimiter is ';'
    when the header has more semicolons than commas, else ','. Rows are (line number, cells),
    without blank and '#' lines. An empty file raises InputFileError ending in `empty_hint`
    (what header to add).
    """
    lines = text.splitlines()
    header_at = next(
        (i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), None
    )
    if header_at is None:
        raise InputFileError(f"{path}: the file is empty; add a header line {empty_hint}")
    header_line = lines[header_at]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(lines[header_at:], delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    rows = []
    for row in reader:
        line = header_at + reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        rows.append((line, row))
    return header_at + 1, header, delimiter, rows


def yaml_list(path: Path, text: str, key: str, example: str) -> yaml.SequenceNode | None:
    """The list of a small YAML table, as a line-keeping node: the document itself or the value
    of its top-level `key:`. None for an empty document.

    Composed, not loaded: nodes keep their line numbers and values stay the text as written (a
    date or an NIP like 0012 is parsed by the caller). `example` is one list item shown in the
    message when the document is not a list.
    """
    try:
        check_yaml(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InputFileError(f"{path}: not valid YAML ({exc})") from None
    if root is None:
        return None
    if isinstance(root, yaml.MappingNode):
        found = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == key]
        if not found:
            raise InputFileError(
                f"{path}, line {root.start_mark.line + 1}: expected a list of {key}, or a "
                f"top-level '{key}:' key holding that list"
            )
        root = found[0]
    if not isinstance(root, yaml.SequenceNode):
        raise InputFileError(f"{path}, line {root.start_mark.line + 1}: expected a list like '{example}'")
    return root
