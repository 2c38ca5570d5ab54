"""How good is the what-if advice? Predicted range against the measured speedup.

For each planted case (benchmarks/whatif_cases.py), the demo and, with --arc-dsl PATH,
the outside DSL: the cell is recorded as a baseline with the what-if pass (its prediction
for the change), then the change is measured for real, interleaved against the baseline
with the output check, through the core session: ``--try`` patches the change in place
(memoize, inline); changes only a user can write (batch, exceptions, offload) are measured
with the hand-made cell as a candidate. Nothing of the prediction enters the measurement.

Goal (issue 13): the measured speedup inside the predicted range in at least 80% of the
cases, and never a predicted win of 1.1x or more (the range's low end) for a change that
measures 1.0x or less. Prints the table and both figures; asserts nothing.

    python benchmarks/bench_whatif.py [--budget 20] [--tasks 8] [--arc-dsl /work/outside/arc-dsl]
        [--arc-functions 4] [--arc-repeat 3] [--only NAME ...] [--cost 5]

It first times the what-if pass against plain runs of the demo, interleaved (target: at
most 2x the plain run).

The offloadable case runs only where CuPy and a GPU are usable (skipped with the reason
otherwise).
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from whatif_cases import CASES, Case

from workbench import gpu
from workbench.experiment.measure import Plan
from workbench.experiment.outputs import Tolerance
from workbench.experiment.patch import resolve
from workbench.experiment.result import ExperimentResult
from workbench.experiment.session import Session, predicted

DEMO_RULES = Path(__file__).resolve().parents[1] / "data" / "demo_categories.toml"


@dataclass(frozen=True)
class Row:
    case: str
    change: str
    low: float
    high: float
    measured: ExperimentResult | None
    note: str = ""

    @property
    def inside(self) -> bool | None:
        if self.measured is None or math.isnan(self.low):
            return None
        return self.low <= self.measured.speedup.point <= self.high


def _session(namespace: dict[str, Any]) -> Session:
    store = Path(tempfile.mkdtemp(prefix="bench-whatif-")) / "runs.sqlite"
    return Session(namespace, store=store)


def _row(name: str, spec: str, prediction: dict[str, Any], result: ExperimentResult | None) -> Row:
    low = float(prediction.get("low", math.nan))
    high = float(prediction.get("high", math.nan))
    return Row(name, spec, low, high, result, str(prediction.get("note", "")))


def planted(case: Case, budget: float) -> Row:
    namespace: dict[str, Any] = {}
    exec(case.setup, namespace)
    session = _session(namespace)
    plan = Plan(budget_s=budget)
    tolerance = Tolerance(rtol=1e-6)
    options = session.options({}, use_pyproject=False)
    try:
        if case.by_hand is None:
            tried = session.try_change(
                case.change, case.cell, options, plan=plan, tolerance=tolerance
            )
            assert tried.result is not None, tried.error
            return _row(case.name, case.change, dict(tried.result.prediction or {}), tried.result)
        kind, _, name = case.change.partition(":")
        target = resolve(name, namespace)
        base = session.baseline(
            "base",
            case.cell,
            session.options({"whatif": True}, use_pyproject=False),
            focus=[target.stored],
        )
        assert base.error is None, base.error
        whatif = base.report.whatif_pass
        prediction = predicted(whatif, kind, target.qualname)
        cand = session.candidate("by hand", case.by_hand, options, plan=plan, tolerance=tolerance)
        assert cand.result is not None, cand.error
        return _row(case.name, case.change, prediction, cand.result)
    finally:
        session.close()


def demo(budget: float, tasks: int) -> Row:
    namespace: dict[str, Any] = {}
    session = _session(namespace)
    cell = f"from workbench.demo import run_demo\nrun_demo(n_tasks={tasks})"
    try:
        options = session.options({"rules": str(DEMO_RULES)}, use_pyproject=False)
        base = session.baseline(
            "demo", cell, session.options({"rules": str(DEMO_RULES), "whatif": True})
        )
        assert base.error is None and base.report.whatif_pass is not None
        best = base.report.whatif_pass.best(1)
        spec = str(best.iloc[0]["try"])
        tried = session.try_change(spec, cell, options, against="demo", plan=Plan(budget_s=budget))
        assert tried.result is not None, tried.error
        return _row(
            f"demo ({tasks} tasks)", spec, dict(tried.result.prediction or {}), tried.result
        )
    finally:
        session.close()


def arc(path: str, budget: float, functions: int, repeat: int) -> list[Row]:
    sys.path.insert(0, path)
    namespace: dict[str, Any] = {}
    exec("import run_solvers\nrun_solvers.run(tasks=5)", namespace)
    session = _session(namespace)
    cell = f"run_solvers.run(repeat={repeat}, exclude=('a64e4611',))"
    rows = []
    try:
        options = session.options({"whatif": True}, use_pyproject=False)
        base = session.baseline("arc", cell, options)
        assert base.error is None and base.report.whatif_pass is not None
        table = base.report.whatif_pass.changes
        memo = table[(table["change"] == "memoize") & (table["try"] != "")]
        plain = session.options({}, use_pyproject=False)
        for spec in list(memo["try"].head(functions)):
            tried = session.try_change(spec, cell, plain, against="arc", plan=Plan(budget_s=budget))
            assert tried.result is not None, tried.error
            rows.append(_row("arc-dsl", spec, dict(tried.result.prediction or {}), tried.result))
    finally:
        session.close()
    return rows


def pass_cost(tasks: int, repeats: int) -> None:
    """The what-if pass's wall time against plain runs of the demo, interleaved."""
    import statistics

    from workbench.profiling.options import Options
    from workbench.profiling.run import compile_source, run_passes
    from workbench.profiling.whatif import run_whatif
    from workbench.profiling.whatif_costs import measure_costs

    namespace: dict[str, Any] = {}
    steps = compile_source(
        f"from workbench.demo import run_demo\nrun_demo(n_tasks={tasks})", namespace
    )
    passes = run_passes(steps, Options.build({"rules": str(DEMO_RULES)}), namespace=namespace)
    costs = measure_costs()
    ratios = []
    for _ in range(repeats):
        start = time.perf_counter()
        for step in steps:
            step()
        before = time.perf_counter() - start
        whatif, _ = run_whatif(
            steps,
            passes.tables.functions,
            passes.raw.stats,
            namespace,
            plain_s=passes.analysis.overhead.plain_s,
            per_call_cost_s=passes.analysis.overhead.per_call_s,
            costs=costs,
        )
        start = time.perf_counter()
        for step in steps:
            step()
        after = time.perf_counter() - start
        ratios.append(whatif.seconds / ((before + after) / 2))
        print(
            f"  plain {before:.3f} s, what-if pass {whatif.seconds:.3f} s "
            f"({len(whatif.functions)} functions probed), plain {after:.3f} s",
            flush=True,
        )
    print(
        f"what-if pass / plain run on the demo ({tasks} tasks): median {statistics.median(ratios):.2f} "
        f"of {repeats} (range {min(ratios):.2f} to {max(ratios):.2f}); target: at most 2"
    )


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else ("inf" if math.isinf(value) else f"{value:.3f}x")


def table(rows: list[Row]) -> str:
    lines = [
        "| case | change | predicted range | measured (99% CI) | verdict | inside? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        m = row.measured
        measured = (
            f"{m.speedup.point:.3f}x ({m.speedup.low:.3f}x to {m.speedup.high:.3f}x)" if m else "-"
        )
        inside = {True: "yes", False: "no", None: "-"}[row.inside]
        predicted_range = (
            f"{_fmt(row.low)} to {_fmt(row.high)}" if not math.isnan(row.low) else row.note
        )
        verdict = m.verdict if m else "-"
        lines.append(
            f"| {row.case} | `{row.change}` | {predicted_range} | {measured} | {verdict} | {inside} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--arc-dsl", metavar="PATH")
    parser.add_argument("--arc-functions", type=int, default=4)
    parser.add_argument("--arc-repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--cost", type=int, default=5, metavar="N", help="pass-cost repeats (0: skip)"
    )
    args = parser.parse_args()
    if args.cost:
        pass_cost(args.tasks, args.cost)
    started = time.perf_counter()
    rows: list[Row] = []
    status = gpu.probe()
    for case in CASES:
        if args.only and case.name not in args.only:
            continue
        if case.needs_gpu and not status.available:
            print(f"{case.name}: skipped: {status.reason}")
            continue
        rows.append(planted(case, args.budget))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    if not args.only or "demo" in args.only:
        rows.append(demo(args.budget, args.tasks))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    if args.arc_dsl:
        rows += arc(args.arc_dsl, args.budget, args.arc_functions, args.arc_repeat)
    print()
    print(
        f"{platform.node()}, Python {platform.python_version()}, {time.perf_counter() - started:.0f} s"
    )
    print(table(rows))
    judged = [r for r in rows if r.inside is not None]
    inside = sum(1 for r in judged if r.inside)
    false_wins = [
        r
        for r in rows
        if r.measured is not None and r.low >= 1.1 and r.measured.speedup.point <= 1.0
    ]
    print()
    print(f"measured inside the predicted range: {inside} of {len(judged)} (goal: at least 80%)")
    print(f"predicted >= 1.1x (low end) but measured <= 1.0x: {len(false_wins)} (goal: none)")


if __name__ == "__main__":
    main()
