"""Start-up stays light: the command line and the package import no pandas, pm4py or matplotlib
until a command needs them (pm4py alone takes seconds to import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pm4py", "matplotlib", "pandas", "scipy", "openpyxl")


def loaded_after(code: str) -> list[str]:
    """The heavy modules in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", ["import sopaudit", "import sopaudit.cli",
                                  "from sopaudit.cli import main; main.list_commands(None)"])
def test_import_pulls_in_no_heavy_module(code):
    assert loaded_after(code) == []


def test_sop_show_loads_an_sop_without_pm4py():
    # `sopaudit sop show` only loads the YAML: the Petri net (pm4py) is for compiling it
    code = ("from sopaudit.sop import load_sop\n"
            f"sop = load_sop({str(ROOT / 'reference_models' / 'paspor_baru_mpaspor.yaml')!r})\n"
            "assert len(sop.steps) == 17")
    assert loaded_after(code) == []


def test_help_lists_every_command_without_heavy_imports():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom sopaudit.cli import main\n"
            "out = CliRunner().invoke(main, ['--help']).output\n"
            "assert all(c in out for c in ('audit', 'demo', 'discover', 'ingest', 'simulate', 'sop')), out")
    assert loaded_after(code) == []
