"""Bounds on a YAML document before it is composed: nesting depth and the size aliases expand to.

YAML aliases (`*name`) repeat a whole anchored subtree; nested, a few kilobytes expand to
billions of nodes (the "billion laughs"), and PyYAML composes deep nesting recursively (a
RecursionError at a few thousand levels). `check_yaml` reads the document's event stream
(PyYAML's parser keeps its own stack, so it does not recurse) and refuses a document nested
deeper than MAX_DEPTH, an alias inside its own anchor, or aliases that would add more than
MAX_ALIAS_NODES nodes. The error is a `yaml.MarkedYAMLError`, so every loader reports it with
its file, line and column as it does a syntax error.
"""

from __future__ import annotations

import yaml

MAX_DEPTH = 100  # an SOP flow, a mapping or a roles file is never nested this deep
MAX_ALIAS_NODES = 100_000  # nodes that aliases may add to the document


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML document beyond the bounds of a configuration file (or not UTF-8 text)."""


def read_yaml_text(path) -> str:
    """The text of a YAML file (UTF-8, with or without BOM); bytes that are not UTF-8 are a
    YamlLimitError at their line and column, so loaders report them like a syntax error."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        mark = yaml.Mark(str(path), exc.start, line, column, None, None)
        raise YamlLimitError(None, None, f"byte 0x{data[exc.start]:02x} is not UTF-8 text; save the file as "
                             "UTF-8", mark) from None


def check_yaml(text: str) -> None:
    """Raise YamlLimitError when `text` nests too deep or its aliases expand too far; syntax
    errors are left to the loader."""
    stack: list[list] = []  # per open collection: [anchor, nodes so far]
    sizes: dict[str, int] = {}  # finished anchors: the nodes each stands for
    open_anchors: set[str] = set()
    added = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise YamlLimitError(None, None, f"the document is nested more than {MAX_DEPTH} levels deep; "
                                         "a configuration file never is (is this the right file?)",
                                         event.start_mark)
                stack.append([event.anchor, 1])
                if event.anchor:
                    open_anchors.add(event.anchor)
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, size = stack.pop()
                if anchor:
                    sizes[anchor] = size
                    open_anchors.discard(anchor)
                if stack:
                    stack[-1][1] += size
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    raise YamlLimitError(None, None, f"the alias *{event.anchor} is inside its own anchor "
                                         f"&{event.anchor} (a structure without end); write the values out",
                                         event.start_mark)
                size = sizes.get(event.anchor, 1)  # an undefined alias is the composer's error
                added += size
                if added > MAX_ALIAS_NODES:
                    raise YamlLimitError(None, None, f"the aliases (*name) of this document expand to more than "
                                         f"{MAX_ALIAS_NODES:,} nodes; write the values out instead of "
                                         "repeating anchors", event.start_mark)
                if stack:
                    stack[-1][1] += size
    except YamlLimitError:
        raise
    except yaml.YAMLError:
        return  # a syntax error: the loader reports it with its own wording
