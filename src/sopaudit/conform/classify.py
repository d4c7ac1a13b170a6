"""Turn one optimal alignment into the deviations an auditor reads (DESIGN.md taxonomy).

Rules, applied in this order so that any optimal alignment of a trace gives the same verdict:
1. A log move and a model move of the same step are one `out_of_order` finding (the step was
   done, but elsewhere). Several of each are paired in order of occurrence.
2. Every other visible model move is `skipped`.
3. Every other log move of an SOP step is `repeated` when the case also did that step where the
   SOP wants it (a synchronous move), else `out_of_order` (done where the SOP does not allow it).
4. Every log move of an activity that is not an SOP step is `unexpected`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..sop.compile import END_PREFIX
from .align import VariantAlignment

@dataclass(frozen=True)
class VariantFinding:
    """A deviation found in a variant; `pos` indexes the variant's events (None for a skip)."""

    kind: str
    step: str
    pos: int | None
    detail: str
    related: tuple[str, ...] = ()  # out_of_order: the steps it jumped over
    expected_after: str = ""  # where the SOP wanted it: after this executed step ("" = at start)
    code: str = ""  # which sentence explains it (the report translates it): see DETAIL_CODES


DETAIL_CODES = ("skipped", "skipped_start", "ooo_early", "ooo_late", "ooo_path", "repeated", "unexpected")


def end_reached(alignment: VariantAlignment) -> str:
    """Which SOP end the alignment reached: 'complete' or the id of a legitimate end."""
    for move in reversed(alignment.moves):
        if move.transition and move.model is None and move.transition.startswith(END_PREFIX):
            return move.transition[len(END_PREFIX):].split("#", 1)[0]
    return ""


def _quote(steps) -> str:
    return ", ".join(f"'{s}'" for s in steps)


def classify(alignment: VariantAlignment, sop_steps: frozenset[str]) -> list[VariantFinding]:
    """Findings of one variant, ordered by their place in the alignment."""
    moves = alignment.moves
    # Event position of each move on the log side, and the last executed step before each move.
    pos_of: list[int | None] = []
    prev_done: list[str] = []
    pos, last = 0, ""
    for m in moves:
        prev_done.append(last)
        if m.log is not None:
            pos_of.append(pos)
            pos += 1
            last = m.log
        else:
            pos_of.append(None)

    log_moves = [i for i, m in enumerate(moves) if m.kind == "log"]
    model_moves = [i for i, m in enumerate(moves) if m.kind == "model"]
    synced = {m.log for m in moves if m.kind == "sync"}

    found: list[tuple[int, VariantFinding]] = []
    used_log: set[int] = set()
    used_model: set[int] = set()
    for i in log_moves:
        step = moves[i].log
        match = next((j for j in model_moves if j not in used_model and moves[j].model == step), None)
        if match is None:
            continue
        used_log.add(i)
        used_model.add(match)
        lo, hi = sorted((i, match))
        between = tuple(dict.fromkeys(
            moves[k].log for k in range(lo + 1, hi) if moves[k].log is not None and moves[k].log != step
        ))
        if i < match:
            code, detail = "ooo_early", f"done before {_quote(between)}; the SOP places it after them"
        else:
            code, detail = "ooo_late", f"done after {_quote(between)}; the SOP places it before them"
        found.append((i, VariantFinding("out_of_order", step, pos_of[i], detail, between, prev_done[match],
                                        code)))

    for j in model_moves:
        if j in used_model:
            continue
        step = moves[j].model
        after = prev_done[j]
        where = f"after '{after}'" if after else "at the start"
        found.append((j, VariantFinding("skipped", step, None, f"never done; the SOP requires it {where}",
                                        (), after, "skipped" if after else "skipped_start")))

    for i in log_moves:
        if i in used_log:
            continue
        step = moves[i].log
        if step not in sop_steps:
            finding = VariantFinding("unexpected", step, pos_of[i], f"'{step}' is not a step of the SOP",
                                     code="unexpected")
        elif step in synced:
            finding = VariantFinding("repeated", step, pos_of[i],
                                     "done again; the SOP expects it once at this point", code="repeated")
        else:
            finding = VariantFinding("out_of_order", step, pos_of[i],
                                     "done where the SOP does not allow it on this path", code="ooo_path")
        found.append((i, finding))

    found = [(i, _canonical(f, i, moves, pos_of, prev_done)) for i, f in found]
    found.sort(key=lambda x: (x[1].pos if x[1].pos is not None else -1, x[0]))
    return [f for _, f in found]


def _canonical(f: VariantFinding, i: int, moves, pos_of, prev_done) -> VariantFinding:
    """Pick one of several equally optimal explanations, whichever alignment pm4py returned.

    - Two adjacent steps swapped can be read as "S done late, after T" or "T done early, before
      S"; we always report the step that was done too early.
    - When a step was done twice with nothing matched in between, the later execution is the
      repeat.
    """
    if f.kind == "out_of_order" and f.code == "ooo_late" and len(f.related) == 1:
        other = f.related[0]
        k = next(k for k in range(i - 1, -1, -1) if moves[k].log == other)
        return VariantFinding("out_of_order", other, pos_of[k],
                              f"done before '{f.step}'; the SOP places it after it", (f.step,), f.step,
                              "ooo_early")
    if f.kind == "repeated":
        for k in range(i + 1, len(moves)):
            m = moves[k]
            if m.kind == "sync" and m.log == f.step:
                return VariantFinding("repeated", f.step, pos_of[k], f.detail, code="repeated")
            if m.log is not None:
                break
    return f
