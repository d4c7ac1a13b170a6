"""`wrong_branch`: a yes/no decision answered against its condition on the case's attributes.

The alignment tells which branch each case took (the silent move entering the branch); the
SOP's condition (e.g. `jenis_layanan in [hilang, rusak]` -> yes) tells which it should have taken.
"""

from __future__ import annotations

import pandas as pd

from sopaudit.conform.align import VariantAlignment
from sopaudit.sop.compile import CompiledNet


def decisions(alignment: VariantAlignment, net: CompiledNet) -> list[tuple[int, str, int | None]]:
    """(choice index, "yes"/"no", position of the first event after the decision) per decision
    the alignment passes; a decision inside a loop may appear more than once."""
    split = {}
    for k, (_, yes_name, no_name) in enumerate(net.choices):
        split[yes_name] = (k, "yes")
        split[no_name] = (k, "no")
    out = []
    pos = 0
    pending: list[tuple[int, str]] = []
    for m in alignment.moves:
        if m.transition in split:
            pending.append(split[m.transition])
        if m.log is not None:
            out.extend((k, answer, pos) for k, answer in pending)
            pending = []
            pos += 1
    out.extend((k, answer, None) for k, answer in pending)
    return out


def wrong_branch_findings(variant_decisions: pd.DataFrame, case_vid: pd.DataFrame, case_attrs: pd.DataFrame,
                          net: CompiledNet) -> pd.DataFrame:
    """Findings for decisions taken against their condition.

    `variant_decisions`: variant_id, prefix, choice, answer, event_pos; `case_vid`: case_id,
    variant_id, prefix (whether the case is judged on its prefix alignment); `case_attrs`: case
    attributes indexed by case id."""
    columns = ["case_id", "variant_id", "kind", "step", "event_pos", "detail", "related", "expected_after",
               "detail_code", "evidence_pos"]
    conditional = {k: c for k, (c, _, _) in enumerate(net.choices) if c.condition is not None}
    dec = variant_decisions[variant_decisions["choice"].isin(list(conditional))]
    if dec.empty:
        return pd.DataFrame(columns=columns)
    rows = case_vid.merge(dec, on=["variant_id", "prefix"], how="inner")
    out = []
    for k, group in rows.groupby("choice", sort=True):
        choice = conditional[k]
        cond = choice.condition
        values = (case_attrs[cond.attribute] if cond.attribute in case_attrs
                  else pd.Series(pd.NA, index=case_attrs.index, dtype="string"))
        value = group["case_id"].map(values).astype("string")
        known = value.notna()
        holds = value.isin(cond.values).to_numpy()
        if cond.negate:
            holds = ~holds
        expected = pd.Series(holds, index=group.index).map({True: "yes", False: "no"})
        bad = group[known.to_numpy() & (group["answer"] != expected).to_numpy()]
        label = choice.id or choice.question
        for r, v in zip(bad.itertuples(), value[bad.index], strict=True):
            taken, other = (choice.yes, choice.no) if r.answer == "yes" else (choice.no, choice.yes)
            # The step done against the condition, or, for an empty branch, the step left out.
            first = _first_step(taken) or _first_step(other)
            out.append((r.case_id, r.variant_id, "wrong_branch", first or label, r.event_pos,
                        f"decision '{choice.question}' answered '{r.answer}', but {cond.attribute} = '{v}' "
                        f"requires '{'no' if r.answer == 'yes' else 'yes'}'",
                        "", "", "wrong_branch", ()))
    return pd.DataFrame(out, columns=columns)


def _first_step(node) -> str:
    from sopaudit.sop.model import StepRef, walk

    return next((n.step for n in walk(node) if isinstance(n, StepRef)), "")
