"""The flow of an SOP AP table: rows with jumps (ap_rows.py) read back into flow blocks.

A decision whose answer jumps back is a loop (the rows from the jump target to the decision are
its body; rows the "again" answer passes through before jumping back are its redo steps, which
may end the service, and the decision's other answer jumps past them: the loop is left only
along that answer, kept as the loop's `exit`); a
decision with one answer on the next row and one further down is a choice (the rows in between
are the branch of the first answer; when they end, the rows from the jump on are the rest of
the flow, which both readings of the table allow alike); an answer that ends the service is a
choice with an end. A jump the importer cannot read as one of these stops the import and names
the row: a wrong flow is never guessed.
"""

from __future__ import annotations

from sopaudit.core.errors import SopAuditError
from sopaudit.sop.ap_rows import NEXT, ApRow
from sopaudit.sop.model import Choice, End, Loop, Node, Optional_, Sequence, StepRef, always_ends


class ApFlowError(SopAuditError):
    """A jump of the table cannot be read as a sequence, choice, loop or end."""


def flow_of(rows: list[ApRow], where: str) -> Node:
    """The flow of the numbered rows (row 1 may be the start row, the last the final end)."""
    return _Reader(rows, where).flow()


def _seq(items: list[Node]) -> Node:
    return items[0] if len(items) == 1 else Sequence(tuple(items))


class _Reader:
    def __init__(self, rows: list[ApRow], where: str):
        self.rows = rows
        self.where = where
        self.n = len(rows)
        self.back_to: dict[int, int] = {}  # while reading a loop's redo rows: its first row -> their end

    def err(self, row: ApRow, message: str) -> ApFlowError:
        return ApFlowError(f"{self.where}: row No. {row.label}{f' (line {row.line})' if row.line else ''}: {message}")

    def target(self, row: ApRow, value) -> int | End:
        """The 0-based index a jump leads to, or the End it names."""
        if isinstance(value, End):
            return value
        index = row.label if value == NEXT else int(value) - 1  # labels are 1-based row numbers
        if not 0 <= index < self.n:
            raise self.err(row, f"jumps to No. {value}, which the table does not have")
        return self.back_to.get(index, index)

    def flow(self) -> Node:
        first = 1 if self.rows and self.rows[0].kind == "start" else 0
        last = self.n - 1 if self.rows and self.rows[-1].kind == "end" and not self.rows[-1].end else self.n
        self.stop_final = last
        return _seq(self.parse(first, last) or [Sequence(())])

    def back_edges(self, head: int, stop: int) -> list[int]:
        out = []
        for i in range(head, stop):
            r = self.rows[i]
            targets = [r.yes, r.no] if r.kind == "decision" else [r.goto] if r.goto is not None else []
            if any(not isinstance(t, End) and t is not None and t != NEXT and int(t) - 1 == head for t in targets):
                out.append(i)
        return out

    def parse(self, i: int, stop: int) -> list[Node]:
        items: list[Node] = []
        while i < stop:
            # rows before `stop` going back to row i: a loop starts here (the body of a loop is
            # read up to its decision, so an inner loop with the same first row is found again)
            backs = self.back_edges(i, stop)
            if backs:
                node, i = self.loop(i, max(backs), stop)
                items.append(node)
                continue
            row = self.rows[i]
            if row.kind == "step":
                if row.optional == "start":
                    j = i + 1
                    while j < stop and self.rows[j].kind == "step" and self.rows[j].optional == "more":
                        j += 1
                    items.append(Optional_(_seq([StepRef(r.step) for r in self.rows[i:j]])))
                    i = j
                else:
                    items.append(StepRef(row.step))
                    i += 1
                if self.rows[i - 1].goto is not None and i < stop:
                    raise self.err(self.rows[i - 1], "jumps elsewhere, but no decision above makes this row the end "
                                   "of a branch; move the rows or say at the decision where each answer goes")
            elif row.kind == "end":
                items.append(End(row.end or "selesai", row.text if row.text != row.end else ""))
                i += 1
                if i < stop and not self.reached(i):
                    raise self.err(self.rows[i], "no row or decision leads here: the row above ends the service")
            elif row.kind == "decision":
                node, i = self.choice(i, stop)
                items.append(node)
            else:
                raise self.err(row, "a start row can only stand at the top of the table")
        return items

    def reached(self, i: int) -> bool:
        for r in self.rows:
            for t in (r.yes, r.no) if r.kind == "decision" else (r.goto,):
                if t is not None and not isinstance(t, End) and t != NEXT and int(t) - 1 == i:
                    return True
        return False

    def choice(self, i: int, stop: int) -> tuple[Node, int]:
        row = self.rows[i]
        ty, tn = self.target(row, row.yes), self.target(row, row.no)
        ends = {a: t for a, t in (("yes", ty), ("no", tn)) if isinstance(t, End)}
        jumps = {a: t for a, t in (("yes", ty), ("no", tn)) if not isinstance(t, End)}
        if any(t <= i for t in jumps.values()):
            raise self.err(row, "jumps back, but not to the first row of a block that ends at this decision or "
                           "at a step that goes back; an SOP AP loop goes back from its decision (or its last "
                           "redo step) to the first row of what is repeated")
        if len(ends) == 2:
            return Choice(row.text, ends["yes"], ends["no"]), stop
        if ends:
            (end_answer, end), (other, t) = next(iter(ends.items())), next(iter(jumps.items()))
            if t != i + 1:
                raise self.err(row, f"the answer that goes on jumps to No. {t + 1}, leaving the rows in between "
                               "unreachable")
            return Choice(row.text, **{end_answer: end, other: Sequence(())}), i + 1
        (a1, t1), (a2, t2) = sorted(jumps.items(), key=lambda kv: kv[1])
        if t1 != i + 1:
            raise self.err(row, "neither answer leads to the next row; put the rows of one answer right below")
        if t1 == t2:
            raise self.err(row, "both answers lead to the same row, so the decision decides nothing")
        if t2 > stop:
            raise self.err(row, f"jumps to No. {t2 + 1}, out of the block it stands in")
        first = self.parse(i + 1, t2)
        last = self.rows[t2 - 1]
        join = self.target(last, last.goto) if last.goto is not None and last.kind == "step" else None
        if join is not None and (isinstance(join, End) or join >= t2):  # the first branch jumps over the second
            # (a jump back to a row inside the branch is a loop of the branch, not the join)
            if isinstance(join, End) or not t2 <= join <= stop:
                raise self.err(last, "jumps to a row that is not after the other answer's rows")
            second = self.parse(t2, join)
            return Choice(row.text, **{a1: _seq(first or [Sequence(())]), a2: _seq(second)}), join
        if first and always_ends(_seq(first)):
            return Choice(row.text, **{a1: _seq(first), a2: Sequence(())}), t2
        return Choice(row.text, **{a1: _seq(first or [Sequence(())]), a2: Sequence(())}), t2

    def loop(self, head: int, back: int, stop: int) -> tuple[Node, int]:
        # The loop's decision: one answer on the next row (the redo steps), the other past every
        # row that goes back (the way out); the redo rows run up to where the way out leads and
        # may end the service (a rejection resubmitted or ended as rejected).
        for d in range(back - 1, head - 1, -1):
            dec = self.rows[d]
            if dec.kind != "decision":
                continue
            answers = {a: self.target(dec, getattr(dec, a)) for a in ("yes", "no")}
            again = [a for a, t in answers.items() if t == d + 1]
            out = [a for a, t in answers.items() if not isinstance(t, End) and t > back]
            if len(again) == 1 and len(out) == 1 and again != out:
                exit_at = answers[out[0]]
                if exit_at > stop:
                    raise self.err(dec, f"jumps to No. {exit_at + 1}, out of the block it stands in")
                body = self.parse(head, d)
                self.back_to[head] = exit_at  # in the redo rows, going back is reaching their end
                try:
                    redo = self.parse(d + 1, exit_at)
                finally:
                    del self.back_to[head]
                return Loop(_seq(body or [Sequence(())]), _seq(redo or [Sequence(())]), dec.text,
                            exit=out[0]), exit_at
        row = self.rows[back]
        if row.kind == "decision":
            answers = {a: self.target(row, getattr(row, a)) for a in ("yes", "no")}
            out = [a for a, t in answers.items() if isinstance(t, End) or t != head]
            if len(out) != 1 or isinstance(answers[out[0]], End) or answers[out[0]] != back + 1:
                raise self.err(row, "a loop's decision goes back with one answer and on to the next row with the "
                               "other; when the answer that goes back first passes through other rows (which "
                               "may end the service), the other answer must jump past them")
            body = self.parse(head, back)
            return Loop(_seq(body or [Sequence(())]), None, row.text, exit=out[0]), back + 1
        raise self.err(row, f"goes back to No. {head + 1}, but no decision above it leads here with one answer and "
                       "past it with the other")
