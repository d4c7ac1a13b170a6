"""The actual process: directly-follows graph, variants, filters and miners (`mining`), and the
SOP beside the actual process: allowed flows and differences (`flows`), drawings (`overlay`,
with `legend`)."""

from sopaudit.discovery.mining import ProcessMap, discover, filter_log

__all__ = ["ProcessMap", "discover", "filter_log"]
