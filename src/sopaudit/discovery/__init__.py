"""The actual process: directly-follows graph, variants and filters (`mining`), the drawable
process map (`processmap`), pm4py's miners with their quality under a time budget (`models`),
and the SOP beside the actual process: allowed flows and differences (`flows`), drawings
(`overlay`, with `legend`)."""

from sopaudit.discovery.mining import filter_log
from sopaudit.discovery.processmap import ProcessMap, discover

__all__ = ["ProcessMap", "discover", "filter_log"]
