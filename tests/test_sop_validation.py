"""Validation of YAML SOP files: one case per error, each asserting the exact messages with
file:line:column, and all problems of a file reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

import sopaudit as sa
from sopaudit.core.errors import SopError

from conftest import PASSPORT_SOP

ROOT = PASSPORT_SOP.parents[1]
H = "sop: {code: T, title: Test}\n"
R = "roles:\n  - {id: clerk, name: Clerk}\n"
S = "steps:\n  - {id: a, name: A, role: clerk}\n  - {id: b, name: B, role: clerk}\n"
S0 = "steps:\n  - {id: a, name: A}\n  - {id: b, name: B}\n"
F = "flow:\n  - a\n  - b\n"


def problems_of(tmp_path: Path, text: str | bytes, name: str = "sop.yaml") -> list[str]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SopError) as err:
        sa.load_sop(path)
    assert err.value.path == str(path)
    prefix = f"{path}:"
    assert all(p.startswith(prefix) for p in err.value.problems), err.value.problems
    return [p[len(prefix):] for p in err.value.problems]


CASES = [
    pytest.param(
        "sop: [unclosed\n",
        [
            "2:1: YAML syntax: expected ',' or ']', but got '<stream end>'; check indentation and quotes",
        ],
        id='yaml_syntax',
    ),
    pytest.param(
        H + S0 + F + "flow: [a]\n",
        [
            "8:1: YAML syntax: the key 'flow' is written twice in one mapping; check indentation and quotes",
        ],
        id='duplicate_key',
    ),
    pytest.param(
        "- a\n- b\n",
        [
            '1:1: the file must be a mapping with sop, roles, steps and flow',
        ],
        id='not_a_mapping',
    ),
    pytest.param(
        H + S0 + F + "flw: [a]\n",
        [
            "8:1: unknown key 'flw' (did you mean 'flow'?); allowed: flow, roles, rules, service_standard, sop, steps",
        ],
        id='unknown_top_key',
    ),
    pytest.param(
        S0 + F,
        [
            "1:1: missing 'sop:' header mapping with at least code and title",
        ],
        id='missing_header',
    ),
    pytest.param(
        "sop: {code: T}\n" + S0 + F,
        [
            "1:6: missing 'title:' in the sop header",
        ],
        id='missing_title',
    ),
    pytest.param(
        "sop: {code: T, title: Test, issued: 02/01/2024}\n" + S0 + F,
        [
            "1:37: 'issued: 02/01/2024' is not a date; write it as YYYY-MM-DD, e.g. 2024-01-02",
        ],
        id='bad_date',
    ),
    pytest.param(
        "sop: {code: T, title: Test, titel: X}\n" + S0 + F,
        [
            "1:29: unknown key 'titel' in the sop header (did you mean 'title'?); allowed: approver, code, effective, issued, legal_basis, notes, service, title, unit, version",
        ],
        id='unknown_header_key',
    ),
    pytest.param(
        H + "roles: {id: clerk}\n" + S0 + F,
        [
            "2:8: 'roles' must be a list of {id, name}",
        ],
        id='roles_not_a_list',
    ),
    pytest.param(
        H + "roles:\n  - clerk\n" + S0 + F,
        [
            '3:5: each role must be a mapping with id and name, e.g. {id: penyelia, name: Penyelia}',
        ],
        id='role_not_a_mapping',
    ),
    pytest.param(
        H + "roles:\n  - {id: clerk, name: Clerk}\n  - {id: clerk, name: Head}\n" + S + F,
        [
            "4:10: duplicate role id 'clerk'; give each role its own id",
        ],
        id='duplicate_role_id',
    ),
    pytest.param(
        H + "roles:\n  - {id: petugas loket, name: Clerk}\n" + S0 + F,
        [
            "3:10: role id 'petugas loket' must start with a letter and use only letters, digits, _ . - (e.g. 'petugas_loket')",
        ],
        id='malformed_role_id',
    ),
    pytest.param(
        H + F,
        [
            "1:1: missing 'steps:'; list each step with id, name and role",
        ],
        id='missing_steps',
    ),
    pytest.param(
        H + "steps:\n  - a\n  - {id: b, name: B}\n" + "flow: [b]\n",
        [
            '3:5: each step must be a mapping with id, name and role',
        ],
        id='step_not_a_mapping',
    ),
    pytest.param(
        H + "steps:\n  - {id: 1a, name: A}\n  - {id: b, name: B}\n" + "flow: [1a, b]\n",
        [
            "3:10: step id '1a' must start with a letter and use only letters, digits, _ . - (e.g. 's1a')",
        ],
        id='malformed_step_id',
    ),
    pytest.param(
        H + "steps:\n  - {id: a, name: A}\n  - {id: a, name: B}\n" + "flow: [a]\n",
        [
            "4:10: duplicate step id 'a'; give each step its own id",
        ],
        id='duplicate_step_id',
    ),
    pytest.param(
        H + R + "steps:\n  - {id: a, name: A, role: clerck}\n  - {id: b, name: B}\n" + F,
        [
            "5:28: step 'a' names unknown role 'clerck' (did you mean 'clerk'?); known roles: clerk",
        ],
        id='unknown_role',
    ),
    pytest.param(
        H + "steps:\n  - {id: a, name: A, role: clerk}\n  - {id: b, name: B}\n" + F,
        [
            "3:28: step 'a' names role 'clerk', but the file has no 'roles:' list; add roles: [{id: ..., name: ...}]",
        ],
        id='role_without_roles_list',
    ),
    pytest.param(
        H + "steps:\n  - {id: a, name: A, input: [KTP]}\n  - {id: b, name: B}\n" + F,
        [
            "3:22: unknown key 'input' in a step (did you mean 'inputs'?); allowed: aliases, id, inputs, name, notes, output, role, roles, time",
        ],
        id='unknown_step_key',
    ),
    pytest.param(
        H + "steps:\n  - {id: a, name: A, time: 15 menits}\n  - {id: b, name: B}\n" + F,
        [
            "3:28: unknown time unit 'menits' in '15 menits' (did you mean 'menit'?); units: min/menit, hours/jam, working days/hari kerja, days/hari",
        ],
        id='unknown_time_unit',
    ),
    pytest.param(
        H + "steps:\n  - {id: a, name: A, time: {duration: 15}}\n  - {id: b, name: B}\n" + F,
        [
            "3:39: cannot read the time '15'; write a number and a unit, e.g. '15 min', '2 hours' or '4 working days'",
        ],
        id='time_without_unit',
    ),
    pytest.param(
        H + "steps:\n  - {id: a, name: A, time: {duration: 15 min, inferred: maybe}}\n  - {id: b, name: B}\n" + F,
        [
            "3:57: 'inferred: maybe' must be true or false",
        ],
        id='inferred_not_boolean',
    ),
    pytest.param(
        H + S0,
        [
            "1:1: missing 'flow:'; list the steps in the order the SOP prescribes",
        ],
        id='missing_flow',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - bb\n  - b\n",
        [
            "7:5: the flow names unknown step 'bb' (did you mean 'b'?); define it under steps: or fix the id; known steps: a, b",
        ],
        id='unknown_step_in_flow',
    ),
    pytest.param(
        H + S0 + "flow: [a]\n",
        [
            "4:5: step 'b' is defined but never used in the flow; add it to the flow or delete it",
        ],
        id='step_never_used',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - {step: b, optional: [a]}\n",
        [
            "4:5: step 'b' is defined but never used in the flow; add it to the flow or delete it",
            '7:5: each flow item is a step id or a mapping with exactly one of: step, optional, choice, parallel, loop, end (found step, optional)',
        ],
        id='flow_item_with_two_kinds',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - [b]\n",
        [
            "4:5: step 'b' is defined but never used in the flow; add it to the flow or delete it",
            '7:5: a flow item cannot be a bare list; use parallel:, choice: or loop:',
        ],
        id='flow_item_bare_list',
    ),
    pytest.param(
        H + S0 + "flow:\n  - parallel: [[a]]\n  - b\n",
        [
            "6:15: 'parallel' takes a list of at least two branches, e.g. parallel: [[a], [b]]",
        ],
        id='parallel_with_one_branch',
    ),
    pytest.param(
        H + S0 + "flow:\n  - parallel:\n      - [a, {end: stop}]\n      - [b]\n",
        [
            "7:9: an 'end' cannot stand inside a parallel branch; end after the block",
        ],
        id='end_in_parallel_branch',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - end: stop\n  - b\n",
        [
            "8:5: nothing can follow an 'end' in the same list; move it into a choice branch",
        ],
        id='item_after_end',
    ),
    pytest.param(
        H + S0 + "flow:\n  - choice:\n      question: Q?\n      yes: [a, {end: x}]\n      no: [{end: y}]\n  - b\n",
        [
            '10:5: this item can never be reached: every path through the item above ends the service; move it into a branch that does not end',
        ],
        id='item_after_choice_that_always_ends',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice: [b]\n",
        [
            "4:5: step 'b' is defined but never used in the flow; add it to the flow or delete it",
            "7:13: 'choice' takes a mapping with question, yes and no",
        ],
        id='choice_not_a_mapping',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - b\n  - choice:\n      question: Lengkap?\n",
        [
            "9:7: a choice needs a 'yes:' and/or a 'no:' branch",
        ],
        id='choice_without_branches',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice: {yes: [b]}\n",
        [
            "7:13: missing 'question:' in a choice",
        ],
        id='choice_without_question',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - b\n  - choice:\n      question: Lengkap?\n      yes: []\n      no: []\n",
        [
            '9:7: both branches of this choice are empty, so it decides nothing; put the steps of one answer under yes: or no:, or delete the choice',
        ],
        id='choice_with_empty_branches',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice: {question: \"Hilang?\", yes: [b], condition: hilang}\n",
        [
            "7:56: 'condition' takes {attribute: NAME, in: [values]} or {attribute: NAME, not_in: [values]}",
        ],
        id='condition_not_a_mapping',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice:\n      question: Hilang?\n      condition: {attribute: jenis layanan, in: [hilang]}\n      yes: [b]\n",
        [
            "9:30: attribute name 'jenis layanan' is malformed; write it like the case attribute's column name, with letters, digits, _ : . - only (e.g. 'jenis_layanan')",
        ],
        id='malformed_condition_attribute',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice:\n      question: Hilang?\n      condition: {attribute: jenis_layanan, in: [a], not_in: [b]}\n      yes: [b]\n",
        [
            "9:18: a condition needs exactly one of 'in:' or 'not_in:' with a list of values",
        ],
        id='condition_with_in_and_not_in',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice:\n      question: Hilang?\n      condition: {attribute: jenis_layanan, in: []}\n      yes: [b]\n",
        [
            "9:49: 'in:' needs at least one value, e.g. in: [hilang, rusak]",
        ],
        id='condition_without_values',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - loop: {question: \"Ulang?\", redo: [b]}\n",
        [
            "4:5: step 'b' is defined but never used in the flow; add it to the flow or delete it",
            "7:11: 'loop' takes a mapping with body (the steps repeated), question and optionally redo (the steps before going back)",
        ],
        id='loop_without_body',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - loop: {body: [b]}\n",
        [
            "7:11: missing 'question:' in a loop",
        ],
        id='loop_without_question',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - loop:\n      body:\n        - b\n        - choice: {question: \"Lanjut?\", yes: [{end: x}], no: [{end: y}]}\n      question: Ulang?\n",
        [
            "9:9: loop without exit: every path through the loop body reaches an 'end', so the loop's question is never asked; leave one branch of the body without an 'end'",
        ],
        id='loop_without_exit',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - loop:\n      body: [{optional: [b]}]\n      question: Again?\n",
        [
            '8:13: this loop can go round without doing any step, so it repeats nothing; make at least one step of the body (or of redo) required',
        ],
        id='loop_that_repeats_nothing',
    ),
    pytest.param(
        H + S0 + "flow:\n  - loop:\n      body: [a]\n      redo: [b, {end: x}]\n      question: Again?\n",
        [
            "8:13: every path through the redo steps reaches an 'end', so the loop never goes back; leave one answer of the decision in redo without an 'end' (it goes back to the body), or write a choice whose 'tidak' branch ends instead of a loop",
        ],
        id='loop_whose_redo_always_ends',
    ),
    pytest.param(
        H + S0 + "flow:\n  - loop: {body: [a], question: \"Ulang?\", exit: kadang}\n  - b\n",
        [
            "6:49: 'exit' is the answer that leaves the loop: yes/ya or no/tidak, not 'kadang'",
        ],
        id='loop_exit_not_an_answer',
    ),
    pytest.param(
        H + S0 + "flow:\n  - choice: {id: c1, question: \"Lengkap?\", yes: [a]}\n  - loop: {id: c1, body: [b], question: \"Ulang?\"}\n",
        [
            "7:16: duplicate id 'c1' (first used at line 6); give each choice and loop its own id",
        ],
        id='duplicate_choice_or_loop_id',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - b\n  - end:\n",
        [
            '8:9: an end needs an id saying why the service stops, e.g. end: ditolak',
        ],
        id='end_without_id',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - b\n  - end: complete\n",
        [
            "8:10: 'complete' is reserved for the normal end of the flow; name this end by why the service stops, e.g. end: ditolak",
        ],
        id='end_named_complete',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - optional: []\n  - b\n",
        [
            '7:15: an optional block needs at least one step, e.g. optional: [step_id]',
        ],
        id='optional_without_step',
    ),
    pytest.param(
        H + S0 + F + "service_standard: {limit: 4 working days, from: a, to: c}\n",
        [
            "8:56: service standard 'to:' names unknown step 'c'; use a step id from steps:",
        ],
        id='service_standard_unknown_step',
    ),
    pytest.param(
        H + S0 + F + "service_standard: {from: a, to: b}\n",
        [
            "8:19: missing 'limit:' in a service standard, e.g. limit: 4 working days",
        ],
        id='service_standard_without_limit',
    ),
    pytest.param(
        H + S0 + F + "service_standard: {limit: 1 hari kerja, from: a, to: b, start_at: begin}\n",
        [
            "8:67: 'start_at: begin' must be 'start' or 'end' (of the from step)",
        ],
        id='service_standard_bad_start_at',
    ),
    pytest.param(
        H + S0 + F + "service_standard:\n  limit: 4 working days\n  from: a\n  to: b\n  per_value: {percepatan: 0 working days}\n",
        [
            "12:14: 'per_value' needs 'attribute:' naming the case attribute whose values it lists, e.g. attribute: jenis_layanan",
        ],
        id='per_value_without_attribute',
    ),
    pytest.param(
        H + S0 + F + "service_standard:\n  limit: 4 working days\n  from: a\n  to: b\n  pauses: [{from: a, to: x}]\n",
        [
            "12:26: pause 'to:' names unknown step 'x'; use a step id from steps:",
        ],
        id='pause_unknown_step',
    ),
    pytest.param(
        H + S0 + F + "service_standard:\n  limit: 4 working days\n  from: a\n  to: b\n  pauses: [{from: a}]\n",
        [
            '12:12: a pause is {from: STEP, to: STEP}',
        ],
        id='pause_malformed',
    ),
    pytest.param(
        H + S0 + F + "rules:\n  - {kind: precedense, steps: [a, b]}\n",
        [
            "9:12: unknown rule kind 'precedense' (did you mean 'precedence'?); kinds: absence, coexistence, end, exactly, exclusive_choice, existence, init, precedence, response, separation_of_duties",
        ],
        id='rule_unknown_kind',
    ),
    pytest.param(
        H + S0 + F + "rules:\n  - {kind: precedence, steps: [a, c]}\n",
        [
            "9:31: a rule names unknown step 'c'; use a step id from steps:",
        ],
        id='rule_unknown_step',
    ),
    pytest.param(
        H + S0 + F + "rules:\n  - {kind: precedence, steps: [a]}\n",
        [
            "9:31: a 'precedence' rule takes exactly 2 step(s) in 'steps:'; it has 1",
        ],
        id='rule_wrong_number_of_steps',
    ),
    pytest.param(
        H + S0 + F + "rules:\n  - {kind: exactly, steps: [a], count: once}\n",
        [
            "9:40: 'count: once' must be a whole number 0 or more",
        ],
        id='rule_count_not_a_number',
    ),
    pytest.param(
        H + S0 + F + "rules:\n  - {kind: precedence, steps: [a, b], count: 2}\n",
        [
            "9:46: 'count' applies only to absence, exactly, existence rules",
        ],
        id='rule_count_not_applicable',
    ),
    pytest.param(
        H + S0 + F + "rules:\n  - {id: R1, kind: init, steps: [a]}\n  - {id: R1, kind: end, steps: [b]}\n",
        [
            "10:10: duplicate rule id 'R1'; give each rule its own id",
        ],
        id='duplicate_rule_id',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - loop: {body: [b], question: \"Ulang?\", until: done}\n",
        [
            "7:43: unknown key 'until' in a loop; allowed: body, exit, id, question, redo",
        ],
        id='unknown_key_in_loop',
    ),
    pytest.param(
        H + S0 + "flow:\n  - a\n  - choice: {question: Lengkap?, yes: [b]}\n",
        [
            '7:31: YAML syntax: expected \',\' or \'}\', but got \'?\'; inside { } a value ending in \'?\' must be quoted, e.g. {question: "Lengkap?"}',
        ],
        id='question_mark_in_braces',
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_error_names_line_column_and_fix(tmp_path, text, expected):
    assert problems_of(tmp_path, text) == expected


def test_the_minimal_file_of_the_cases_is_valid(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(H + R + S + F, encoding="utf-8")
    sop = sa.load_sop(path)
    assert sop.step_ids == ("a", "b") and sop.roles[0].name == "Clerk"


def test_all_problems_of_a_file_come_at_once_sorted_by_line(tmp_path):
    text = (
        "sop:\n"
        "  code: X\n"
        "  titel: T\n"
        "roles:\n"
        "  - {id: clerk, name: Clerk}\n"
        "steps:\n"
        "  - {id: a, name: A, role: clerck, time: 15 menits}\n"
        "  - {id: a, name: A2}\n"
        "  - {id: c, name: C}\n"
        "flow:\n"
        "  - a\n"
        "  - bb\n"
    )
    assert problems_of(tmp_path, text) == [
        "2:3: missing 'title:' in the sop header",
        "3:3: unknown key 'titel' in the sop header (did you mean 'title'?); allowed: approver, code, "
        "effective, issued, legal_basis, notes, service, title, unit, version",
        "7:28: step 'a' names unknown role 'clerck' (did you mean 'clerk'?); known roles: clerk",
        "7:42: unknown time unit 'menits' in '15 menits' (did you mean 'menit'?); units: min/menit, "
        "hours/jam, working days/hari kerja, days/hari",
        "8:10: duplicate step id 'a'; give each step its own id",
        "9:5: step 'c' is defined but never used in the flow; add it to the flow or delete it",
        "12:5: the flow names unknown step 'bb'; define it under steps: or fix the id; known steps: a, c",
    ]


def test_the_error_text_lists_every_problem(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(H + S0 + "flow: [a, x]\n", encoding="utf-8")
    with pytest.raises(SopError) as err:
        sa.load_sop(path)
    assert str(err.value) == (
        f"The SOP file {path} has 2 problem(s):\n"
        f"  {path}:4:5: step 'b' is defined but never used in the flow; add it to the flow or delete it\n"
        f"  {path}:5:11: the flow names unknown step 'x'; define it under steps: or fix the id; known steps: a, b"
    )


def test_not_utf8_missing_file_and_unknown_type(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("sop: {code: T, title: Pelayanan \xe9}\n".encode("latin-1"))
    with pytest.raises(SopError) as err:
        sa.load_sop(bad)
    assert err.value.problems[0].startswith(f"{bad}: not UTF-8 text (") and \
        err.value.problems[0].endswith("save the file as UTF-8")
    with pytest.raises(SopError) as err:
        sa.load_sop(tmp_path / "nope.yaml")
    assert err.value.problems == [f"{tmp_path / 'nope.yaml'}: the file does not exist; check the path of --sop"]
    txt = tmp_path / "sop.txt"
    txt.write_text("x", encoding="utf-8")
    with pytest.raises(SopError) as err:
        sa.load_sop(txt)
    assert err.value.problems == [f"{txt}: unknown SOP file type '.txt'; use a .yaml SOP table, a .pnml or a .bpmn file"]


def test_an_end_inside_a_loop_body_is_allowed_when_the_body_can_go_on(tmp_path):
    path = tmp_path / "withdraw.yaml"
    path.write_text(H + S0 + (
        "flow:\n"
        "  - loop:\n"
        "      body:\n"
        "        - a\n"
        "        - choice: {question: \"Ditarik?\", yes: [{end: ditarik}], no: []}\n"
        "      question: Lengkap?\n"
        "  - b\n"), encoding="utf-8")
    sop = sa.load_sop(path)
    loop = sop.flow.items[0]
    assert loop.question == "Lengkap?" and loop.body.items[1].yes.id == "ditarik"


def test_every_shipped_model_validates():
    models = sorted((ROOT / "reference_models").glob("*.yaml"))
    assert [m.name for m in models] == ["izin_tinggal_itas.yaml", "paspor_baru_mpaspor.yaml",
                                        "paspor_baru_walkin.yaml", "paspor_pengganti_hilang_rusak.yaml"]
    for m in models:
        sop = sa.load_sop(m)
        assert sop.header.legal_basis and sop.flow is not None
        # inferred time standards are marked, and the notes say so
        assert any(s.time.inferred for s in sop.steps) and "inferred" in sop.header.notes


def test_the_complete_example_of_the_format_document_is_valid(tmp_path):
    text = (ROOT / "docs" / "sop-format.md").read_text(encoding="utf-8")
    example = text.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    sop = sa.load_sop(path)
    assert sop.header.code == "SOP-IMI-PASPOR-02" and len(sop.steps) == 9
    assert sop.service_standards[0].pauses == (("wawancara", "pembayaran"),)
