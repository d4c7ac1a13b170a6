"""YAML loading that remembers where every mapping key and list item stood in the file."""

from __future__ import annotations

from pathlib import Path

import yaml

from sopaudit.core.yamlguard import check_yaml, read_yaml_text


class LocDict(dict):
    """A mapping that knows the line and column (1-based) of itself, of each key (`key_pos`) and
    of each key's value (`key_locs`)."""

    loc: tuple[int, int] = (1, 1)
    key_locs: dict
    key_pos: dict


class LocList(list):
    """A list that knows the line and column (1-based) of itself and of each item."""

    loc: tuple[int, int] = (1, 1)
    item_locs: list


class _Loader(yaml.SafeLoader):
    pass


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocDict:
    out = LocDict()
    out.loc = _mark(node)
    out.key_locs = {}
    out.key_pos = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be plain text", key_node.start_mark
            )
        key = str(key) if not isinstance(key, bool) else ("yes" if key else "no")
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' is written twice in one mapping", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_locs[key] = _mark(value_node)
        out.key_pos[key] = _mark(key_node)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocList:
    out = LocList(loader.construct_object(child, deep=True) for child in node.value)
    out.loc = _mark(node)
    out.item_locs = [_mark(child) for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class _TextDatesLoader(_Loader):
    """Dates stay text, for readers that parse them and can then say where a bad one stands
    (PyYAML's own date constructor fails on 2024-02-30 without a line number)."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}


def load_yaml(path: str | Path, text: str | None = None, dates_as_text: bool = False):
    """Parse a YAML file into LocDict/LocList/scalars; syntax errors become (line, col, msg).
    A document nested too deep or whose aliases expand too far is refused (core/yamlguard.py)."""
    if text is None:
        text = read_yaml_text(Path(path))
    check_yaml(text)
    loader = _TextDatesLoader if dates_as_text else _Loader
    return yaml.load(text, Loader=loader)  # noqa: S506 - both loaders are SafeLoader subclasses
