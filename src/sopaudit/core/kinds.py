"""The stable identifiers of finding kinds (DESIGN.md deviation taxonomy), in report order."""

from __future__ import annotations

CONTROL_FLOW = ("skipped", "out_of_order", "repeated", "unexpected", "wrong_branch")
TIME = ("late_step", "late_case")
ROLES = ("wrong_role", "duty_conflict")
OTHER = ("rule", "incomplete")

ALL_KINDS = CONTROL_FLOW + TIME + ROLES + OTHER

# Findings of these kinds make a case non-conforming (unless accepted). `incomplete` cases are
# reported apart: they are neither conforming nor deviating until they finish.
DEVIATING = CONTROL_FLOW + TIME + ROLES + ("rule",)
