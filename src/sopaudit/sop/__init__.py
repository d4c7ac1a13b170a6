"""SOP reference models: the data model, loading and validation, compilation to a Petri net and a
process tree, BPMN and PNML exchange. The SOP AP flowchart is `sopaudit.sop.draw.draw_sop` and
the table `sopaudit.sop.table` (imported on use, so loading an SOP never needs the renderer).

The names below are imported on first use (PEP 562), so loading or showing an SOP imports only
what it needs. The Petri nets are sopaudit's own (`sop/petri.py`); only the process tree
(`compile_tree`) and `CompiledNet.to_pm4py` import pm4py, which takes a second or two."""

from __future__ import annotations

from sopaudit.core.lazy import lazy_names
from sopaudit.sop.display import sop_html
from sopaudit.sop.model import SOP as _SOP

# the notebook display of an SOP, kept out of the model (display.py imports the renderer on use)
_SOP._repr_html_ = sop_html

_API = {
    "SOP": "sopaudit.sop.model",
    "CompiledNet": "sopaudit.sop.compile",
    "compile_sop": "sopaudit.sop.compile",
    "compile_tree": "sopaudit.sop.tree",
    "flow_language": "sopaudit.sop.language",
    "load_sop": "sopaudit.sop.load",
    "net_language": "sopaudit.sop.language",
    "sop_from_yaml": "sopaudit.sop.load",
    "write_bpmn": "sopaudit.sop.bpmn_write",
    "write_pnml": "sopaudit.sop.pnml",
}

__all__ = sorted(_API)

__getattr__, __dir__ = lazy_names(__name__, _API)
