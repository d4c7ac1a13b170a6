"""Reference models drawn in other tools: PNML Petri nets and BPMN 2.0 diagrams.

Both load into the same `SOP` type as a YAML table; the Petri net is the reference (there is no
flow tree), the visible transition or task labels are the step ids, and BPMN lanes become roles.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from sopaudit.core.errors import SopError
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.model import SOP, Header, Role, Step


def label_order(net: CompiledNet) -> dict[str, int]:
    """Rank of each step label by how soon a token from the initial marking can reach it
    (breadth first over the net's arcs), so imported steps are listed in flow order."""
    order: dict[str, int] = {}
    seen = set(net.initial)
    queue = deque(sorted(net.initial, key=lambda p: str(p.name)))
    while queue:
        place = queue.popleft()
        for t in sorted((a.target for a in place.out_arcs), key=lambda t: str(t.name)):
            if t.label is not None and t.label not in order:
                order[t.label] = len(order)
            for a in sorted(t.out_arcs, key=lambda a: str(a.target.name)):
                if a.target not in seen:
                    seen.add(a.target)
                    queue.append(a.target)
    return order


def _is_bpmn(path: Path) -> bool:
    if path.suffix.lower() == ".bpmn":
        return True
    if path.suffix.lower() == ".pnml":
        return False
    head = path.read_bytes()[:4096].decode("utf-8", "replace")
    return "BPMN/20100524/MODEL" in head


def load_net_model(path: Path, sha256: str) -> SOP:
    """Load a .pnml or .bpmn (or BPMN .xml) file as an SOP whose steps are the visible labels."""
    if _is_bpmn(path):
        from sopaudit.sop.bpmn_read import read_bpmn

        model = read_bpmn(path)
        rank = label_order(model.net)
        steps = tuple(Step(id=s.id, name=s.name, roles=s.roles, notes=s.documentation)
                      for s in sorted(model.steps, key=lambda s: (rank.get(s.id, len(rank)), s.id)))
        roles = tuple(Role(rid, name) for rid, name in model.roles)
        header = Header(code=path.stem, title=model.name)
        return SOP(header, roles, steps, None, source=str(path), sha256=sha256, net=model.net)
    from sopaudit.sop.pnml import read_pnml

    net, name = read_pnml(path)
    rank = label_order(net)
    labels = sorted({t.label for t in net.net.transitions if t.label is not None},
                    key=lambda label: (rank.get(label, len(rank)), label))
    if not labels:
        raise SopError(str(path), [f"{path}: the model has no labelled transitions (no steps); name the "
                                   "transitions after the steps the service system records"])
    steps = tuple(Step(id=label, name=label) for label in labels)
    from sopaudit.sop.netcheck import final_reachable

    if final_reachable(*net.as_tuple()) is False:
        raise SopError(str(path), [f"{path}: the final marking cannot be reached from the initial marking, "
                                   "so no case could conform; check both markings in the modelling tool"])
    header = Header(code=path.stem, title=name or path.stem)
    return SOP(header, (), steps, None, source=str(path), sha256=sha256, net=net)
