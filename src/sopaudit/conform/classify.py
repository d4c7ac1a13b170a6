"""Turn one optimal alignment into the deviations an auditor reads (DESIGN.md taxonomy).

Rules, applied in this order so that any optimal alignment of a trace gives the same verdict:
1. A log move and a model move of the same step are one `out_of_order` finding (the step was
   done, but elsewhere). Several of each are paired in order of occurrence.
2. Every other visible model move is `skipped`.
3. Every other log move of an SOP step is `repeated` when the case also did that step where the
   SOP wants it (a synchronous move), else `out_of_order` (done where the SOP does not allow it).
4. Every log move of an activity that is not an SOP step is `unexpected`.
Of two adjacent steps swapped, the one done too early is reported (see `_canonical`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sopaudit.conform.align import VariantAlignment
from sopaudit.sop.compile import END_PREFIX

DETAIL_CODES = ("skipped", "skipped_start", "ooo_early", "ooo_late", "ooo_path", "repeated", "unexpected")


@dataclass(frozen=True)
class VariantFinding:
    """A deviation found in a variant; positions index the variant's events (0-based)."""

    kind: str
    step: str
    pos: int | None  # the event the finding is about (None for a skipped step)
    detail: str
    related: tuple[str, ...] = ()  # out_of_order: the steps it jumped over
    expected_after: str = ""  # where the SOP wanted it: after this executed step ("" = at start)
    code: str = ""  # which sentence explains it (the report translates it): see DETAIL_CODES
    evidence: tuple[int, ...] = ()  # other events that prove it (neighbours, first execution, ...)


def end_reached(alignment: VariantAlignment) -> str:
    """Which SOP end the alignment reached: 'complete' or the id of a legitimate end."""
    for move in reversed(alignment.moves):
        if move.transition and move.model is None and move.transition.startswith(END_PREFIX):
            return move.transition[len(END_PREFIX):].split("#", 1)[0]
    return ""


def _quote(steps) -> str:
    return ", ".join(f"'{s}'" for s in steps)


def classify(alignment: VariantAlignment, sop_steps: frozenset[str]) -> list[VariantFinding]:
    """Findings of one variant, ordered by the position of their event."""
    moves = alignment.moves
    n_events = len(alignment.variant)
    # Event position of each move on the log side, and the last executed step/position before it.
    pos_of: list[int | None] = []
    prev_done: list[str] = []
    prev_pos: list[int | None] = []
    pos, last = 0, ""
    for m in moves:
        prev_done.append(last)
        prev_pos.append(pos - 1 if pos > 0 else None)
        if m.log is not None:
            pos_of.append(pos)
            pos += 1
            last = m.log
        else:
            pos_of.append(None)

    log_moves = [i for i, m in enumerate(moves) if m.kind == "log"]
    model_moves = [i for i, m in enumerate(moves) if m.kind == "model"]
    sync_pos = {}
    for i, m in enumerate(moves):
        if m.kind == "sync":
            sync_pos.setdefault(m.log, pos_of[i])

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
        inside = [k for k in range(lo + 1, hi) if moves[k].log is not None and moves[k].log != step]
        between = tuple(dict.fromkeys(moves[k].log for k in inside))
        if i < match:
            code, detail = "ooo_early", f"done before {_quote(between)}; the SOP places it after them"
        else:
            code, detail = "ooo_late", f"done after {_quote(between)}; the SOP places it before them"
        found.append((i, VariantFinding("out_of_order", step, pos_of[i], detail, between, prev_done[match],
                                        code, tuple(pos_of[k] for k in inside))))

    for j in model_moves:
        if j in used_model:
            continue
        step = moves[j].model
        after = prev_done[j]
        where = f"after '{after}'" if after else "at the start"
        around = tuple(p for p in (prev_pos[j], prev_pos[j] + 1 if prev_pos[j] is not None else 0)
                       if p is not None and p < n_events)
        found.append((j, VariantFinding("skipped", step, None, f"never done; the SOP requires it {where}",
                                        (), after, "skipped" if after else "skipped_start", around)))

    for i in log_moves:
        if i in used_log:
            continue
        step = moves[i].log
        if step not in sop_steps:
            finding = VariantFinding("unexpected", step, pos_of[i], f"'{step}' is not a step of the SOP",
                                     code="unexpected")
        elif step in sync_pos:
            finding = VariantFinding("repeated", step, pos_of[i], "done again; the SOP expects it once at this point",
                                     code="repeated", evidence=(sync_pos[step],))
        else:
            finding = VariantFinding("out_of_order", step, pos_of[i],
                                     "done where the SOP does not allow it on this path", code="ooo_path")
        found.append((i, finding))

    found = [(i, _canonical(f, i, moves, pos_of)) for i, f in found]
    found.sort(key=lambda x: (x[1].pos if x[1].pos is not None else -1, x[0]))
    return [f for _, f in found]


def _canonical(f: VariantFinding, i: int, moves, pos_of) -> VariantFinding:
    """Two adjacent steps swapped read as "S done late, after T" or as "T done early, before S";
    always report the step that was done too early."""
    if f.kind == "out_of_order" and f.code == "ooo_late" and len(f.related) == 1:
        other = f.related[0]
        k = next(k for k in range(i - 1, -1, -1) if moves[k].log == other)
        return VariantFinding("out_of_order", other, pos_of[k],
                              f"done before '{f.step}'; the SOP places it after it", (f.step,), f.step,
                              "ooo_early", (pos_of[i],))
    return f
