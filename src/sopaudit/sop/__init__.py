"""SOP reference models: the data model, loading and validation, compilation to a Petri net and a
process tree, BPMN and PNML exchange. The SOP AP flowchart is `sopaudit.sop.draw.draw_sop` and
the table `sopaudit.sop.table` (imported on use, so loading an SOP never needs the renderer)."""

from .bpmn_write import write_bpmn
from .compile import CompiledNet, compile_sop
from .language import flow_language, net_language
from .load import load_sop, sop_from_yaml
from .model import SOP
from .pnml import write_pnml
from .tree import compile_tree

__all__ = ["SOP", "CompiledNet", "compile_sop", "compile_tree", "flow_language", "load_sop",
           "net_language", "sop_from_yaml", "write_bpmn", "write_pnml"]
