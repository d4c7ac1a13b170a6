"""Reference models drawn in other tools: PNML Petri nets and BPMN 2.0 diagrams."""

from __future__ import annotations

from pathlib import Path

from ..errors import SopError
from ..xmlsafe import check_xml
from .compile import CompiledNet
from .model import SOP, Header, Step


def load_net_model(path: Path, sha256: str) -> SOP:
    """Load a .pnml or .bpmn file as an SOP whose steps are the visible transition labels."""
    import pm4py

    check_xml(path)
    try:
        if path.suffix.lower() == ".pnml":
            net, im, fm = pm4py.read_pnml(str(path))
        else:
            bpmn = pm4py.read_bpmn(str(path))
            net, im, fm = pm4py.convert_to_petri_net(bpmn)
    except Exception as exc:  # pm4py raises assorted errors on malformed models
        raise SopError(str(path), [f"{path}: cannot read this model ({type(exc).__name__}: {exc}); "
                                   "export it again from the modelling tool as PNML or BPMN 2.0 XML"]) from None
    if not im or not fm:
        which = "initial" if not im else "final"
        raise SopError(str(path), [f"{path}: the model has no {which} marking; set the {which} "
                                   "marking (PNML) or add start and end events (BPMN)"])
    labels = sorted({t.label for t in net.transitions if t.label is not None})
    if not labels:
        raise SopError(str(path), [f"{path}: the model has no labelled transitions (no steps)"])
    steps = tuple(Step(id=label, name=label) for label in labels)
    header = Header(code=path.stem, title=path.stem)
    return SOP(header, (), steps, None, source=str(path), sha256=sha256, net=CompiledNet(net, im, fm))
