"""Simulated service logs with known deviations: the ground truth for tests, demos and training.

`simulate(sop, cases, seed, scenario)` plays an SOP's flow for many cases at once and returns
the event log and a truth table with one row per injected deviation, in the vocabulary of the
audit findings. Scenario files (docs/simulation.md) set offices, officers, arrivals, paths,
times and deviation rates.
"""

from sopaudit.simulation.engine import TRUTH_COLUMNS, simulate
from sopaudit.simulation.scenario import Scenario, ScenarioError, default_scenario
from sopaudit.simulation.scenario_file import load_scenario
from sopaudit.simulation.write import officer_roles, write_log, write_officers, write_truth

__all__ = ["TRUTH_COLUMNS", "Scenario", "ScenarioError", "default_scenario", "load_scenario",
           "officer_roles", "simulate", "write_log", "write_officers", "write_truth"]
