"""SOP reference models: the data model, loading, validation and compilation to a Petri net."""

from .compile import compile_sop
from .load import load_sop
from .model import SOP

__all__ = ["SOP", "compile_sop", "load_sop"]
