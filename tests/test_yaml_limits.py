"""YAML files are bounded: an alias bomb or deep nesting is a located error, never minutes of
work or a RecursionError (issue 13, defect 5), and a tag in a mapping file is a clear error
(defect 9)."""

from __future__ import annotations

import time

import pytest

from sopaudit.core.errors import InputFileError, MappingError, SopError

from conftest import FIXTURES

MINI = (FIXTURES / "mini_sop.yaml").read_text(encoding="utf-8")


def _bomb(levels: int = 7, width: int = 9) -> str:
    lines = ["  - optional: &l0 [b]"]
    for i in range(1, levels + 1):
        lines.append(f"  - optional: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines)


def _sop_with_flow(flow: str) -> str:
    head = MINI.split("flow:")[0]
    return head + "flow:\n  - a\n" + flow + "\n  - g\n"


def test_alias_bomb_in_the_sop_flow(tmp_path):
    from sopaudit.sop.load import load_sop

    path = tmp_path / "bomb.yaml"
    path.write_text(_sop_with_flow(_bomb()), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(SopError, match=r"bomb.yaml:\d+:\d+: YAML syntax: the aliases \(\*name\) of this "
                                       r"document expand to more than 100,000 nodes"):
        load_sop(path)
    assert time.perf_counter() - started < 5


def test_deep_nesting_is_a_located_error(tmp_path):
    from sopaudit.sop.load import load_sop

    path = tmp_path / "deep.yaml"
    path.write_text(_sop_with_flow("  - " + "[" * 3000 + "b" + "]" * 3000), encoding="utf-8")
    with pytest.raises(SopError, match=r"deep.yaml:\d+:\d+: .*nested more than 100 levels deep"):
        load_sop(path)


def test_alias_inside_its_own_anchor(tmp_path):
    from sopaudit.sop.load import load_sop

    path = tmp_path / "loop.yaml"
    path.write_text(_sop_with_flow("  - optional: &x [b, *x]"), encoding="utf-8")
    with pytest.raises(SopError, match=r"loop.yaml:\d+:\d+: .*the alias \*x is inside its own anchor"):
        load_sop(path)


def test_a_few_aliases_still_load(tmp_path):
    from sopaudit.sop.load import load_sop

    text = MINI.replace("  - {id: a, name: Register, role: clerk, aliases: [REG]}",
                        "  - {id: a, name: Register, role: &r clerk, aliases: [REG]}")
    text = text.replace("  - {id: c, name: Check, role: clerk}", "  - {id: c, name: Check, role: *r}")
    assert text != MINI
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_sop(path).step("c").roles == ("clerk",)


def test_every_yaml_reader_is_bounded(tmp_path):
    from sopaudit.conform.accept import load_allow_list
    from sopaudit.ingest.mapping import load_mapping
    from sopaudit.standards.roles import load_role_assignments as load_roles

    bomb = "x: &l0 [b]\n" + "\n".join(f"y{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 8))
    for name, load, error in (("mapping.yaml", load_mapping, MappingError),
                              ("roles.yaml", load_roles, InputFileError),
                              ("accepted.yaml", load_allow_list, InputFileError)):
        path = tmp_path / name
        path.write_text(bomb + "\n", encoding="utf-8")
        with pytest.raises(error, match="expand to more than 100,000 nodes"):
            load(path)
        path.write_text("a:\n" + "  " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
        with pytest.raises(error, match="nested more than 100 levels"):
            load(path)


def test_unsafe_tag_in_a_mapping_file(tmp_path):
    from sopaudit.ingest.mapping import load_mapping

    path = tmp_path / "m.yaml"
    path.write_text("case: no_permohonan\nactivity: !!python/object/apply:os.system ['echo hi']\n"
                    "time: waktu\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"m.yaml, line 2: the value of 'activity' cannot be read"):
        load_mapping(path)
