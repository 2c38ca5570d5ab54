"""What the run store costs: per recorded %%optimize run, and listing 10,000 runs.

Targets (issue [experiments-postmortem]): the store adds at most 20 ms to a %%optimize
run on the demo; listing 10,000 runs takes at most 0.5 s. Issue [reliability-security]:
prune gives the space back; a baseline's 200 MB result does not add 200 MB to the store
unless asked. Prints its figures; asserts nothing.

* per run: the demo is profiled once through %%optimize (its functions table has about
  1,000 rows); then the magic's recording step (findings, the run with its four tables,
  the workflow events, one transaction) is timed on that report, and, separately, the
  store write alone.
* listing: a store holding 10,000 runs, each with the demo report's full tables, is
  listed with ``workbench.runs()`` (open, query, DataFrame).

    python benchmarks/bench_store.py [--tasks N] [--repeats R] [--runs N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench import machine
from workbench.cli import demo_rules
from workbench.experiment.outputs import freeze
from workbench.experiment.session import Session
from workbench.profiling.report import Report
from workbench.store.db import RunStore


def record(session: Session, report: Report, code: str, store: Path) -> None:
    """What the session does to record a profiled run: findings, the run, its events."""
    opened = session.store(str(store))
    findings = session.findings(report.tables, opened)
    with opened.write() as writer:
        run_id = writer.add_run(
            report, env=session.environment(), code=code, session=session.id, findings=findings
        )
        session.workflow(opened).profiled(
            writer,
            label=report.label,
            complete=report.complete,
            error=report.error,
            run_id=run_id,
            findings=len(findings),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbench")
    shell.run_cell("from workbench.demo import run_demo")
    code = f"run_demo(n_tasks={args.tasks})\n"
    with capture_output():
        shell.run_cell(f"%%optimize -q --no-store -o r --rules {demo_rules()}\n{code}")
    report = shell.user_ns["r"]
    session = shell.magics_manager.registry["OptimizeMagics"].session
    per_run = folder / "per_run.sqlite"
    record(session, report, code, per_run)  # opens the store, parses sources once

    whole, writes = [], []
    env = machine.current_environment(device="bench")
    with RunStore(folder / "write_only.sqlite") as store:
        for _ in range(args.repeats):
            start = time.perf_counter()
            record(session, report, code, per_run)
            whole.append(time.perf_counter() - start)
            start = time.perf_counter()
            with store.write() as writer:
                run_id = writer.add_run(report, env=env, code=code)
                writer.add_phase_event("default", "Profile", "Completed", "", run_id=run_id)
            writes.append(time.perf_counter() - start)

    big = folder / "big.sqlite"
    start = time.perf_counter()
    with RunStore(big) as store:
        for first in range(0, args.runs, 500):
            with store.write() as writer:
                for _ in range(min(500, args.runs - first)):
                    writer.add_run(report, env=env, code=code)
    fill_s = time.perf_counter() - start
    listings = []
    for _ in range(5):
        start = time.perf_counter()
        frame = workbench.runs(big)
        listings.append(time.perf_counter() - start)

    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(
        f"demo report: run_demo(n_tasks={args.tasks}), {len(report.functions):,} functions, "
        f"{report.calls:,} calls, profiled {report.profiled_s:.2f} s"
    )
    print(
        f"recording a %%optimize run (findings + run + tables + workflow events), "
        f"median of {args.repeats}: {statistics.median(whole) * 1e3:.1f} ms "
        f"(max {max(whole) * 1e3:.1f} ms; target <= 20 ms)"
    )
    print(
        f"  of which the store write alone, median: {statistics.median(writes) * 1e3:.1f} ms "
        f"(max {max(writes) * 1e3:.1f} ms)"
    )
    size_mb = big.stat().st_size / 1e6
    print(
        f"listing {len(frame):,} runs with workbench.runs(), best of 5: {min(listings):.3f} s "
        f"(median {statistics.median(listings):.3f} s; target <= 0.5 s); "
        f"store file {size_mb:.0f} MB, filled in {fill_s:.0f} s"
    )
    keep = args.runs // 10
    start = time.perf_counter()
    pruned = workbench.prune(big, keep=keep)
    print(
        f"prune(keep={keep:,}) of that store, with vacuum: {time.perf_counter() - start:.1f} s, "
        f"{pruned} (target: the space comes back)"
    )
    baseline_outputs()


def baseline_outputs() -> None:
    """A baseline whose result is a 200 MB array: what its stored outputs add to the store
    (target: not 200 MB unless asked), and what freezing it costs."""
    big = np.random.default_rng(0).random(25_000_000)  # 200 MB of float64, incompressible
    start = time.perf_counter()
    frozen = freeze({"result": big}, "baseline")
    freeze_s = time.perf_counter() - start
    start = time.perf_counter()
    kept = freeze({"result": big}, "baseline", max_bytes=None)
    kept_s = time.perf_counter() - start
    print(
        f"baseline result of {big.nbytes / 1e6:.0f} MB: stored outputs {len(frozen):,} bytes "
        f"(a fingerprint; freeze {freeze_s:.2f} s), {len(kept) / 1e6:.0f} MB when asked to keep "
        f"it (max_bytes=None; {kept_s:.2f} s); target: not 200 MB unless asked"
    )


if __name__ == "__main__":
    main()
