"""Reading the `flow:` list of an SOP YAML file into flow nodes, with located problems: step
ids, ids of decisions and loops, where ends may stand, and whether every loop can come back."""

from __future__ import annotations

from sopaudit.sop.model import (
    Choice,
    Condition,
    End,
    Loop,
    Node,
    Optional_,
    Parallel,
    Sequence,
    StepRef,
    always_ends,
    may_end,
    nullable,
    walk,
)
from sopaudit.sop.problems import (
    Problems,
    check_attribute,
    check_id,
    did_you_mean,
    text_field,
    text_list,
    unknown_keys,
    value_loc,
)
from sopaudit.sop.yamlsrc import LocDict, LocList

FLOW_KEYS = ("step", "optional", "choice", "parallel", "loop", "end")
RESERVED_END = "complete"  # the id of the normal end of the flow (see compile.COMPLETE_END)


class FlowReader:
    """Reads the flow list into flow nodes, checking step ids, ids of decisions and loops, where
    ends may stand and whether every loop can come back to its question."""

    def __init__(self, step_ids: set[str], problems: Problems):
        self.step_ids = step_ids
        self.problems = problems
        self.block_ids: dict[str, tuple[int, int] | None] = {}

    def read_list(self, raw, parent, key) -> Node:
        """A flow list is a sequence; a single item stands for itself."""
        if raw is None:
            return Sequence(())
        if not isinstance(raw, LocList):
            return self.item(raw, value_loc(parent, key))
        items: list[Node] = []
        for i, item in enumerate(raw):
            node = self.item(item, value_loc(raw, i))
            if items and isinstance(items[-1], End):
                self.problems.add(value_loc(raw, i), "nothing can follow an 'end' in the same list; "
                                                "move it into a choice branch")
            elif items and always_ends(items[-1]):
                self.problems.add(value_loc(raw, i), "this item can never be reached: every path through the "
                                                "item above ends the service; move it into a branch "
                                                "that does not end")
            items.append(node)
        return items[0] if len(items) == 1 else Sequence(tuple(items))

    def step_ref(self, value, loc) -> Node:
        sid = "" if value is None else str(value).strip()
        if not sid:
            self.problems.add(loc, "empty flow item; write a step id, e.g. - pemeriksaan_berkas")
        elif sid not in self.step_ids and self.step_ids:  # no steps at all: reported once above
            known = f"; known steps: {', '.join(sorted(self.step_ids))}" if self.step_ids else ""
            self.problems.add(loc, f"the flow names unknown step '{sid}'{did_you_mean(sid, self.step_ids)}; "
                                   f"define it under steps: or fix the id{known}")
        return StepRef(sid)

    def block_id(self, d: LocDict, what: str) -> str:
        bid = text_field(d, "id", self.problems)
        if bid:
            check_id(bid, value_loc(d, "id"), f"{what} id", self.problems)
            if bid in self.block_ids:
                first = self.block_ids[bid]
                at = f" (first used at line {first[0]})" if first else ""
                self.problems.add(value_loc(d, "id"), f"duplicate id '{bid}'{at}; give each choice and loop its own id")
            else:
                self.block_ids[bid] = value_loc(d, "id")
        return bid

    def item(self, item, loc) -> Node:
        if not isinstance(item, LocDict | LocList):
            return self.step_ref(item, loc)
        if isinstance(item, LocList):
            self.problems.add(loc, "a flow item cannot be a bare list; use parallel:, choice: or loop:")
            return Sequence(())
        keys = [k for k in item if k in FLOW_KEYS]
        if len(keys) != 1:
            found = f"found {', '.join(keys)}" if keys else f"found {', '.join(item) or 'nothing'}"
            self.problems.add(item.loc, f"each flow item is a step id or a mapping with exactly one of: "
                                        f"{', '.join(FLOW_KEYS)} ({found})")
            return Sequence(())
        kind = keys[0]
        return getattr(self, f"_{kind}")(item, item[kind], value_loc(item, kind))

    def _step(self, item: LocDict, value, vloc) -> Node:
        unknown_keys(item, {"step"}, self.problems, "a flow step")
        return self.step_ref(value, vloc)

    def _optional(self, item: LocDict, value, vloc) -> Node:
        unknown_keys(item, {"optional"}, self.problems, "an optional block")
        body = self.read_list(value, item, "optional")
        if not any(isinstance(n, StepRef) for n in walk(body)):
            self.problems.add(vloc, "an optional block needs at least one step, e.g. optional: [step_id]")
        return Optional_(body)

    def _end(self, item: LocDict, value, vloc) -> Node:
        unknown_keys(item, {"end", "name"}, self.problems, "an end")
        if isinstance(value, LocDict):
            unknown_keys(value, {"id", "name"}, self.problems, "an end")
            eid, name, loc = text_field(value, "id", self.problems), text_field(value, "name", self.problems), value_loc(value, "id")
        elif isinstance(value, LocList):
            self.problems.add(vloc, "'end' takes an id (end: ditolak) or {id, name}, not a list")
            return End("")
        else:
            eid, name, loc = ("" if value is None else str(value).strip()), text_field(item, "name", self.problems), vloc
        if not eid:
            self.problems.add(vloc, "an end needs an id saying why the service stops, e.g. end: ditolak")
        elif eid == RESERVED_END:
            self.problems.add(loc, f"'{RESERVED_END}' is reserved for the normal end of the flow; "
                                   "name this end by why the service stops, e.g. end: ditolak")
        else:
            check_id(eid, loc, "end id", self.problems)
        return End(eid, name)

    def _parallel(self, item: LocDict, value, vloc) -> Node:
        unknown_keys(item, {"parallel"}, self.problems, "a parallel block")
        if not isinstance(value, LocList) or len(value) < 2:
            self.problems.add(vloc, "'parallel' takes a list of at least two branches, e.g. parallel: [[a], [b]]")
            if not isinstance(value, LocList):
                return Sequence(())
        branches = tuple(self.read_list(b, value, i) for i, b in enumerate(value))
        for i, b in enumerate(branches):
            if may_end(b):
                self.problems.add(value_loc(value, i), "an 'end' cannot stand inside a parallel branch; "
                                                  "end after the block")
        return Parallel(branches)

    def _choice(self, item: LocDict, value, vloc) -> Node:
        unknown_keys(item, {"choice"}, self.problems, "a choice")
        if not isinstance(value, LocDict):
            self.problems.add(vloc, "'choice' takes a mapping with question, yes and no")
            return Sequence(())
        unknown_keys(value, {"id", "question", "yes", "no", "condition"}, self.problems, "a choice")
        if "yes" not in value and "no" not in value:
            self.problems.add(value.loc, "a choice needs a 'yes:' and/or a 'no:' branch")
        question = text_field(value, "question", self.problems, required=True, what="a choice")
        cid = self.block_id(value, "choice")
        yes = self.read_list(value.get("yes"), value, "yes")
        no = self.read_list(value.get("no"), value, "no")
        if ("yes" in value or "no" in value) and _empty(yes) and _empty(no):
            self.problems.add(value.loc, "both branches of this choice are empty, so it decides nothing; "
                                         "put the steps of one answer under yes: or no:, or delete the choice")
        return Choice(question=question, yes=yes, no=no, condition=self.condition(value), id=cid)

    def condition(self, choice: LocDict) -> Condition | None:
        raw = choice.get("condition")
        if raw is None:
            return None
        loc = value_loc(choice, "condition")
        if not isinstance(raw, LocDict):
            self.problems.add(loc, "'condition' takes {attribute: NAME, in: [values]} or "
                                   "{attribute: NAME, not_in: [values]}")
            return None
        unknown_keys(raw, {"attribute", "in", "not_in"}, self.problems, "a condition")
        attr = text_field(raw, "attribute", self.problems, required=True, what="a condition")
        check_attribute(attr, value_loc(raw, "attribute"), self.problems)
        if ("in" in raw) == ("not_in" in raw):
            self.problems.add(raw.loc, "a condition needs exactly one of 'in:' or 'not_in:' with a list of values")
            return None
        key = "in" if "in" in raw else "not_in"
        values = text_list(raw, key, self.problems)
        if not values:
            self.problems.add(value_loc(raw, key), f"'{key}:' needs at least one value, e.g. {key}: [hilang, rusak]")
        return Condition(attr, values, negate=(key == "not_in"))

    def _loop(self, item: LocDict, value, vloc) -> Node:
        unknown_keys(item, {"loop"}, self.problems, "a loop")
        if not isinstance(value, LocDict) or "body" not in value:
            self.problems.add(vloc, "'loop' takes a mapping with body (the steps repeated), question and "
                                    "optionally redo (the steps before going back)")
            return Sequence(())
        unknown_keys(value, {"id", "body", "redo", "question", "exit"}, self.problems, "a loop")
        question = text_field(value, "question", self.problems, required=True, what="a loop")
        lid = self.block_id(value, "loop")
        exit_ = self.exit_answer(value)
        body = self.read_list(value["body"], value, "body")
        redo = self.read_list(value["redo"], value, "redo") if value.get("redo") is not None else None
        if always_ends(body):
            self.problems.add(value_loc(value, "body"), "loop without exit: every path through the loop body "
                                                   "reaches an 'end', so the loop's question is never asked; "
                                                   "leave one branch of the body without an 'end'")
        if redo is not None and always_ends(redo):
            other = "tidak" if exit_ == "yes" else "ya"
            self.problems.add(value_loc(value, "redo"), f"every path through the redo steps reaches an 'end', so "
                                                   f"the loop never goes back; leave one answer of the decision "
                                                   f"in redo without an 'end' (it goes back to the body), or "
                                                   f"write a choice whose '{other}' branch ends instead of a loop")
        if nullable(body) and (redo is None or nullable(redo)):
            self.problems.add(value_loc(value, "body"), "this loop can go round without doing any step, so it "
                                                   "repeats nothing; make at least one step of the body "
                                                   "(or of redo) required")
        return Loop(body, redo, question, lid, exit_)

    def exit_answer(self, loop: LocDict) -> str:
        """The answer that leaves the loop: yes (default) or no; YAML reads a bare yes/no as true/false."""
        raw = loop.get("exit", "yes")
        answer = {True: "yes", False: "no"}.get(raw) if isinstance(raw, bool) else \
            {"yes": "yes", "ya": "yes", "no": "no", "tidak": "no"}.get(str(raw).strip().lower())
        if answer is None:
            self.problems.add(value_loc(loop, "exit"), f"'exit' is the answer that leaves the loop: yes/ya or "
                                                  f"no/tidak, not '{raw}'")
            return "yes"
        return answer


def _empty(node: Node) -> bool:
    return isinstance(node, Sequence) and not node.items
