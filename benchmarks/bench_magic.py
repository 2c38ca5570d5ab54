"""The magic's own cost and the import costs, each printed beside its target.

The magic's own work is everything ``%%optimize`` does except the profiled run: compiling
the cell, the analysis, findings, recommendations, recording in the run store, rendering.
It is measured as the magic's whole wall time minus the wall time of the profiled run
inside it (``report.wall_s``), on a generated module of 300 functions (a profile of about
300 functions), so the workload's own noise does not enter it.

* ``-q`` and displayed runs are interleaved in one shell; medians are printed.
* The first run in a fresh kernel: a new process per sample (shell, ``%load_ext``,
  then the first ``%%optimize``); the median over the samples.
* ``import workbench`` beyond numpy and pandas, and ``%load_ext workbench`` beyond that:
  a new process per sample, medians. ``import workbench`` imports its public names on
  first use, so the first use of ``workbench.profile`` (the core) is printed too.

The new processes import compiled bytecode, as an installed package does: they run with
``PYTHONPYCACHEPREFIX`` set to a temporary folder (and ``PYTHONDONTWRITEBYTECODE``
unset), after one warm-up process has written it.

    python benchmarks/bench_magic.py [--repeats 15] [--fresh 7]

Prints its figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FUNCTIONS = 300
TARGETS_MS = {"quiet": 15.0, "displayed": 25.0, "fresh": 40.0, "import": 50.0, "load_ext": 100.0}


def write_workload(folder: Path, functions: int = FUNCTIONS) -> Path:
    """A module of `functions` small functions, each calling two others, all run by `main`."""
    lines = ["def f0(n):\n    return n\n"]
    for i in range(1, functions):
        body = f"f{i // 2}(n - 1) + f{i - 1}(n - 1) if n > 0 else {i}"
        lines.append(f"def f{i}(n):\n    return {body}\n")
    calls = " + ".join(f"f{i}(2)" for i in range(functions))
    lines.append(f"def main(rounds=40):\n    return sum({calls} for _ in range(rounds))\n")
    path = folder / "wb_bench_workload.py"
    path.write_text("\n".join(lines))
    return path


SETUP = """\
import sys, time
sys.path.insert(0, {folder!r})
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
shell = InteractiveShell.instance()
"""


def magic_once(shell: Any, flags: str) -> tuple[float, Any]:
    """One ``%%optimize`` run: (seconds of the magic's own work, the report)."""
    from IPython.utils.capture import capture_output

    cell = f"%%optimize -o r {flags}\nmain()\n"
    with capture_output() as cap:
        start = time.perf_counter()
        result = shell.run_cell(cell)
        total = time.perf_counter() - start
    if result.error_in_exec is not None:
        raise RuntimeError(f"the magic failed: {result.error_in_exec!r}")
    if "-q" not in flags and not cap.outputs:
        raise RuntimeError("the magic displayed nothing")
    report = shell.user_ns["r"]
    return total - report.wall_s, report


def in_process(folder: Path, repeats: int) -> dict[str, Any]:
    sys.path.insert(0, str(folder))
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbench")
    shell.run_cell("from wb_bench_workload import main")
    magic_once(shell, "-q")  # the first run is measured in fresh processes instead
    magic_once(shell, "")
    quiet, shown = [], []
    report = None
    for _ in range(repeats):
        seconds, report = magic_once(shell, "-q")
        quiet.append(seconds)
        seconds, report = magic_once(shell, "")
        shown.append(seconds)
    assert report is not None
    return {
        "quiet": statistics.median(quiet),
        "displayed": statistics.median(shown),
        "functions": len(report.functions),
        "profiled_s": report.profiled_s,
    }


FRESH = (
    SETUP
    + """\
shell.run_line_magic("load_ext", "workbench")
shell.run_cell("from wb_bench_workload import main")
with capture_output() as cap:
    start = time.perf_counter()
    shell.run_cell("%%optimize -o r\\nmain()\\n")
    total = time.perf_counter() - start
assert cap.outputs, "nothing displayed"
print(total - shell.user_ns["r"].wall_s)
"""
)

IMPORTS = """\
import time
start = time.perf_counter()
import numpy, pandas
base = time.perf_counter()
import workbench
done = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
ready = time.perf_counter()
shell.run_line_magic("load_ext", "workbench")
loaded = time.perf_counter()
print(done - base, loaded - ready)
"""

CORE = """\
import time
import numpy, pandas
import workbench
start = time.perf_counter()
workbench.profile  # the names are imported on first use: this loads the core
print(time.perf_counter() - start)
"""


def fresh_runs(folder: Path, samples: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    firsts, imports, cores, loads = [], [], [], []
    for sample in range(samples + 1):  # the first one writes the bytecode and is not kept
        with tempfile.TemporaryDirectory() as work:
            out = subprocess.run(
                [sys.executable, "-c", FRESH.format(folder=str(folder))],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            first = float(out.stdout.split()[-1])
            out = subprocess.run(
                [sys.executable, "-c", IMPORTS],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            imported, loaded = out.stdout.split()[-2:]
            out = subprocess.run(
                [sys.executable, "-c", CORE],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            core = out.stdout.split()[-1]
        if sample > 0:
            firsts.append(first)
            imports.append(float(imported))
            cores.append(float(core))
            loads.append(float(loaded))
    return {
        "fresh": statistics.median(firsts),
        "import": statistics.median(imports),
        "core": statistics.median(cores),
        "load_ext": statistics.median(loads),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15, help="interleaved pairs in-process")
    parser.add_argument("--fresh", type=int, default=7, help="fresh processes per figure")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_workload(folder)
        work = folder / "cwd"
        work.mkdir()
        os.chdir(work)  # the run store goes to this temporary folder
        figures = in_process(folder, args.repeats)
        figures.update(fresh_runs(folder, args.fresh))
        os.chdir(folder.parent)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"workload: {figures['functions']} functions profiled, "
        f"{figures['profiled_s'] * 1e3:.1f} ms profiled per run"
    )
    rows = [
        ("magic's own work, -q (median of interleaved runs)", "quiet"),
        ("magic's own work, displayed (median of interleaved runs)", "displayed"),
        ("magic's own work, first run in a fresh kernel (median of processes)", "fresh"),
        ("import workbench, beyond numpy and pandas", "import"),
        ("%load_ext workbench, beyond that", "load_ext"),
    ]
    for text, key in rows:
        print(f"{text}: {figures[key] * 1e3:.1f} ms (target <= {TARGETS_MS[key]:g} ms)")
    print(
        "for reference, the first use of workbench.profile after import workbench (it "
        f"imports the core, which %load_ext also loads): {figures['core'] * 1e3:.1f} ms"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
