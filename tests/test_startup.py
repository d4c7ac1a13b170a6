"""Start-up stays light: the command line and the package import no pandas, pm4py or matplotlib
until a command needs them (pm4py alone takes seconds to import)."""

from __future__ import annotations

import json
import os
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


@pytest.mark.parametrize("chosen", [None, "3"])
def test_the_console_script_runs_openblas_on_one_thread_unless_chosen(chosen):
    # numpy is not loaded when the script starts, so OpenBLAS reads the setting when it is
    code = ("import atexit, os, sys\nfrom sopaudit.cli import run\n"
            "atexit.register(lambda: print(os.environ['OPENBLAS_NUM_THREADS'], 'numpy' in sys.modules))\n"
            "sys.argv = ['sopaudit', '--version']\nrun()")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if chosen:
        env["OPENBLAS_NUM_THREADS"] = chosen
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env)
    assert out.stdout.splitlines()[-1] == f"{chosen or 1} False"


@pytest.mark.parametrize("tuned", [False, True])
def test_the_console_script_has_malloc_keep_blocks_of_a_few_mb_in_its_heap(tuned):
    # glibc's mallinfo2 counts the bytes in blocks mapped on their own (hblkhd): a 16 MiB block is
    # one by default, and comes from the heap once tune_process has run
    code = ("import ctypes, os, sys\n"
            "if not (os.confstr('CS_GNU_LIBC_VERSION') or '').startswith('glibc'): sys.exit(3)\n"
            "class Info(ctypes.Structure):\n"
            "    _fields_ = [(n, ctypes.c_size_t) for n in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd',"
            " 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]\n"
            "libc = ctypes.CDLL(None)\n"
            "if not hasattr(libc, 'mallinfo2'): sys.exit(3)\n"
            "libc.mallinfo2.restype = Info\n"
            "from sopaudit.cli import tune_process\n"
            f"if {tuned}: tune_process()\n"
            "before = libc.mallinfo2().hblkhd\nblock = bytearray(16 << 20)\n"
            "print(libc.mallinfo2().hblkhd - before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if out.returncode == 3:
        pytest.skip("not glibc with mallinfo2: tune_process leaves malloc as it is")
    assert out.returncode == 0, out.stderr
    mapped = int(out.stdout.split()[-1])
    assert (mapped == 0) if tuned else (mapped >= 16 << 20)


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


def test_compiling_and_checking_models_needs_no_pm4py_nor_pandas():
    # what `sopaudit sop validate` does for a YAML table, a PNML net and a BPMN diagram
    models = [ROOT / "reference_models" / "paspor_baru_walkin.yaml",
              ROOT.parent / "shared" / "datasets" / "running_example" / "running-example.pnml",
              *sorted((ROOT / "tests" / "fixtures" / "sop_bpmn").glob("*.bpmn"))[:1]]
    code = ("from sopaudit.sop import compile_sop, load_sop\n"
            f"nets = [compile_sop(load_sop(p)) for p in {[str(p) for p in models]!r}]\n"
            f"assert len(nets) == {len(models)} and all(n.labels for n in nets)")
    assert loaded_after(code) == []


def test_an_audit_with_every_report_imports_no_pm4py_scipy_or_matplotlib(tmp_path):
    # pm4py (1-2 s to import) is for its own algorithms only (precision, discovery's miners);
    # scipy (0.5-1 s) for the statistics of segments and reforms; matplotlib (0.3 s) for the trend
    # charts of history and reforms (the report's charts are plain SVG)
    code = ("import pandas as pd\nimport sopaudit as sa\n"
            "t0 = pd.Timestamp('2024-03-04 08:00', tz='Asia/Jakarta')\n"
            "cases = {'c1': list('abcdefg'), 'c2': list('acedffg'), 'c3': list('abr')}\n"
            "log = pd.DataFrame([{'case:concept:name': c, 'concept:name': a, 'org:resource': 'o' + a,\n"
            "                     'time:timestamp': t0 + pd.Timedelta(minutes=10 * i)}\n"
            "                    for c, acts in cases.items() for i, a in enumerate(acts)])\n"
            f"result = sa.audit(log, sa.load_sop({str(ROOT / 'tests' / 'fixtures' / 'mini_sop.yaml')!r}), processes=1)\n"
            "assert result.metrics['cases'] == 3\n"
            f"files = result.write({str(tmp_path / 'out')!r}, lang='en')\n"
            "assert {'report', 'xlsx', 'summary', 'cases'} <= set(files)")
    loaded = loaded_after(code)
    assert "pm4py" not in loaded and "scipy" not in loaded and "matplotlib" not in loaded
