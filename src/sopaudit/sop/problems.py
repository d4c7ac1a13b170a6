"""Located problems of one SOP file: collected with file:line:column, raised together."""

from __future__ import annotations

import difflib
import re

from sopaudit.core.errors import SopError
from sopaudit.sop.yamlsrc import LocDict, LocList

ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]*$")


class Problems:
    """Collects located problems of one file."""

    def __init__(self, path: str):
        self.path = path
        self.items: list[tuple[int, int, str]] = []

    def add(self, loc: tuple[int, int] | None, message: str) -> None:
        line, col = loc or (1, 1)
        self.items.append((line, col, message))

    def raise_if_any(self) -> None:
        if self.items:
            items = sorted(set(self.items))
            raise SopError(self.path, [f"{self.path}:{ln}:{col}: {msg}" for ln, col, msg in items])


def value_loc(parent, key) -> tuple[int, int] | None:
    """Where the value of `parent[key]` stands."""
    if isinstance(parent, LocDict):
        return parent.key_locs.get(key, parent.loc)
    if isinstance(parent, LocList):
        return parent.item_locs[key] if 0 <= key < len(parent.item_locs) else parent.loc
    return None


def key_loc(parent: LocDict, key: str) -> tuple[int, int]:
    """Where the key itself stands."""
    return getattr(parent, "key_pos", {}).get(key) or parent.key_locs.get(key) or parent.loc


def did_you_mean(word: str, choices) -> str:
    """" (did you mean 'x'?)" when a known word is close to `word`, else ""."""
    close = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_keys(d: LocDict, allowed: set[str], problems: Problems, what: str = "") -> None:
    for key in d:
        if key not in allowed:
            where = f" in {what}" if what else ""
            problems.add(key_loc(d, key), f"unknown key '{key}'{where}{did_you_mean(key, allowed)}; "
                                           f"allowed: {', '.join(sorted(allowed))}")


def text_field(d: LocDict, key: str, problems: Problems, required: bool = False, what: str = "") -> str:
    value = d.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            where = f" in {what}" if what else ""
            problems.add(d.loc, f"missing '{key}:'{where}")
        return ""
    if isinstance(value, LocDict | LocList):
        problems.add(value_loc(d, key), f"'{key}' must be text, not a list or mapping")
        return ""
    return str(value).strip()


def text_list(d: LocDict, key: str, problems: Problems) -> tuple[str, ...]:
    value = d.get(key)
    if value is None:
        return ()
    if isinstance(value, LocList):
        out = []
        for i, v in enumerate(value):
            if isinstance(v, LocDict | LocList):
                problems.add(value_loc(value, i), f"each item of '{key}' must be text, not a list or mapping")
            elif v is not None:
                out.append(str(v).strip())
        return tuple(out)
    if isinstance(value, LocDict):
        problems.add(value_loc(d, key), f"'{key}' must be a list of texts, e.g. {key}: [a, b]")
        return ()
    return (str(value).strip(),)


def fixed_name(value: str, bad: str, empty: str, prefix: str) -> str:
    """A well-formed name to suggest for `value`: runs of `bad` characters become '_', an empty
    result becomes `empty`, and `prefix` goes before a result that does not start with a letter or _."""
    fixed = re.sub(bad, "_", value).strip("_") or empty
    return fixed if re.match(r"[A-Za-z_]", fixed) else f"{prefix}{fixed}"


def check_id(value: str, loc, what: str, problems: Problems) -> None:
    if value and not ID_RE.match(value):
        fixed = fixed_name(value, r"[^A-Za-z0-9_.-]+", "x", "s")
        problems.add(loc, f"{what} '{value}' must start with a letter and use only letters, digits, "
                          f"_ . - (e.g. '{fixed}')")


def check_attribute(attr: str, loc, problems: Problems) -> None:
    if attr and not ATTR_RE.match(attr):
        fixed = fixed_name(attr, r"[^A-Za-z0-9_:.-]+", "attribute", "_")
        problems.add(loc, f"attribute name '{attr}' is malformed; write it like the case attribute's "
                          f"column name, with letters, digits, _ : . - only (e.g. '{fixed}')")
