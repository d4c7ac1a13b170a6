"""SOP reference models: the data model, loading and validation, compilation to a Petri net and a
process tree, BPMN and PNML exchange. The SOP AP flowchart is `sopaudit.sop.draw.draw_sop` and
the table `sopaudit.sop.table` (imported on use, so loading an SOP never needs the renderer)."""

from sopaudit.sop.bpmn_write import write_bpmn
from sopaudit.sop.compile import CompiledNet, compile_sop
from sopaudit.sop.display import sop_html
from sopaudit.sop.language import flow_language, net_language
from sopaudit.sop.load import load_sop, sop_from_yaml
from sopaudit.sop.model import SOP
from sopaudit.sop.pnml import write_pnml
from sopaudit.sop.tree import compile_tree

SOP._repr_html_ = sop_html  # notebook display, kept out of the model (display.py)

__all__ = ["SOP", "CompiledNet", "compile_sop", "compile_tree", "flow_language", "load_sop",
           "net_language", "sop_from_yaml", "write_bpmn", "write_pnml"]
