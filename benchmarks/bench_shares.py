"""Corrected category shares, and the hottest functions' inclusive shares, against a ground
truth taken without a profiler.

The truth (`truth.py`): calls into a category's files from outside them are recorded once,
then replayed plainly; timed where they happen by
signature-preserving wrappers (no profiler: the category's code runs at full speed, the C
work it asks for included), the wrappers' own cost measured and taken out. Layers nest
(arc-dsl: the DSL, then the solvers that call it, then the rest): each layer's share is its
clock less the clocks inside it; "rest" is what is left.

Each workload is then profiled in each mode through the product (a Session, as a kernel
uses it), interleaved with the plain runs, and its `r.categories.corrected_pct` is printed
beside the truth (targets: within 3 points for cProfile's corrected shares, within 1 point
for the sampler on small categories). For arc-dsl (`--arc-dsl PATH`) the five hottest DSL
functions by inclusive time get their own clocks (their outermost calls timed) and the
corrected inclusive shares are ranked against them. Built in: the `dsl` shape (its DSL against
the search loop that calls it). The wrappers cost about 0.4 us a call, so the truth needs
calls of several microseconds (the shape's grids are 14 x 14), and classes whose methods
run through operators (Fraction, Decimal) are not timed this way: `--stdlib` is profiled
are left out. Prints its figures; asserts nothing.

    python benchmarks/bench_shares.py [--quick] [--repeats R] [--arc-dsl PATH]
                                      [--modes cprofile,sample,pyinstrument]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import shapes  # noqa: E402
import truth  # noqa: E402

from workbench.experiment.session import Session  # noqa: E402


@dataclass
class Workload:
    """A callable, its category rules, and the truth's layers (inner first): each
    (category, its modules, the modules that call it); `extra` wraps callables held in
    data (a context manager factory taking the clocks)."""

    name: str
    run: Callable[[], object]
    rules: list[str]
    layers: list[truth.Layer]
    inner: dict[str, list[str]] = field(default_factory=dict)
    extra: Callable[[dict[str, truth.Clock]], Any] | None = None
    functions: bool = False  # rank the hottest DSL functions' inclusive shares too


def built_in(quick: bool) -> list[Workload]:
    import shape_dsl

    work = shapes.shape("dsl", 0.5 if quick else 3.0)
    return [
        Workload(
            "dsl shape", work.run, ["DSL=*/shape_dsl.py"], [("DSL", [shape_dsl], [shapes], None)]
        )
    ]


def arc_dsl(path: str, quick: bool) -> Workload:
    sys.path.insert(0, path)
    import dsl
    import run_solvers
    import solvers

    cases = run_solvers.load_cases()
    tasks = 60 if quick else 250

    @contextmanager
    def solver_clock(clocks: dict[str, truth.Clock]) -> Iterator[None]:
        saved = list(cases)
        try:
            cases[:] = [
                (task, truth.signature_wrapper(fn, clocks["solvers"]), pairs)
                for task, fn, pairs in saved
            ]
            yield
        finally:
            cases[:] = saved

    return Workload(
        "arc-dsl",
        lambda: run_solvers.run(tasks=tasks),
        [f"DSL={dsl.__file__}", f"solvers={solvers.__file__}"],
        [("DSL", [dsl], [solvers], None), ("solvers", [solvers], [], None)],
        inner={"solvers": ["DSL"]},
        extra=solver_clock,
        functions=True,
    )


def truth_shares(work: Workload, repeats: int) -> dict[str, float]:
    """Each category's share of the run, in percent, and the rest: medians over runs with
    the timing wrappers in place (truth.py); a layer holding others has theirs taken out."""
    rounds: list[dict[str, float]] = []
    for _ in range(max(repeats, 3)):
        timing = truth.layer_times(work.run, work.layers, work.extra, work.inner)
        shares: dict[str, float] = {}
        for label, clock in timing.clocks.items():
            inside = sum(timing.clocks[i].seconds for i in work.inner.get(label, []))
            shares[label] = 100.0 * max(clock.seconds - inside, 0.0) / timing.total_s
        shares["rest"] = max(100.0 - sum(shares.values()), 0.0)
        rounds.append(shares)
    return {label: statistics.median(r[label] for r in rounds) for label in rounds[0]}


def profiled_shares(
    work: Workload, session: Session, mode: str, repeats: int
) -> tuple[dict[str, float], dict[str, float], Any]:
    """Median corrected and as-profiled shares per category (truth's labels, others as rest)."""
    labels = [layer[0] for layer in work.layers]
    corrected: dict[str, list[float]] = {}
    profiled: dict[str, list[float]] = {}
    report = None
    for _ in range(repeats):
        options = session.options({"mode": mode}, categories=work.rules, use_pyproject=False)
        report = session.profile(work.run, options, record=False).report
        table = report.categories.set_index("category")
        for label in [*labels, "rest"]:
            if label == "rest":
                rows = table[~table.index.isin(labels)]
            else:
                rows = table[table.index == label]
            corrected.setdefault(label, []).append(float(rows["corrected_pct"].sum()))
            profiled.setdefault(label, []).append(float(rows["pct"].sum()))
    return (
        {k: statistics.median(v) for k, v in corrected.items()},
        {k: statistics.median(v) for k, v in profiled.items()},
        report,
    )


def function_truth(work: Workload, report: Any, repeats: int) -> None:
    """The five hottest DSL functions by corrected inclusive time against their own clocks
    (each wrapped wherever it is called from, outermost calls timed)."""
    functions = report.functions
    dsl = functions[(functions["category"] == "DSL") & ~functions["name"].str.startswith("<")]
    hottest = dsl.sort_values("corrected_cum", ascending=False).head(5)
    names = [str(n) for n in hottest["name"]]
    module = truth.module_of(str(hottest["file"].iloc[0]))
    callers = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None)]
    callers = [m for m in callers if any(vars(m).get(n) is getattr(module, n) for n in names)]
    shares: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(max(repeats, 3)):
        layers: list[truth.Layer] = [(n, [module], callers, [n]) for n in names]
        timing = truth.layer_times(work.run, layers)
        for n in names:
            shares[n].append(100.0 * timing.clocks[n].seconds / timing.total_s)
    plain_total = float(functions["corrected_self"].sum())
    raw_total = float(functions["tottime"].sum())
    rows = [
        (
            n,
            statistics.median(shares[n]),
            100.0 * float(row["cumtime"]) / raw_total,
            100.0 * float(row["corrected_cum"]) / plain_total,
        )
        for n, (_i, row) in zip(names, hottest.iterrows(), strict=True)
    ]
    print(f"\n{work.name}: the five hottest DSL functions, inclusive share of the run")
    print(
        f"{'function':<16}{'truth':>9}{'cProfile':>10}{'corrected':>11}  rank truth/cProfile/corrected"
    )
    order = {key: sorted(rows, key=lambda r, k=key: -r[k]) for key in (1, 2, 3)}
    for name, true, raw, fixed in rows:
        ranks = "/".join(str([r[0] for r in order[k]].index(name) + 1) for k in (1, 2, 3))
        print(f"{name:<16}{true:>8.1f}%{raw:>9.1f}%{fixed:>10.1f}%  {ranks}")
    same = [r[0] for r in order[1]] == [r[0] for r in order[3]]
    raw_same = [r[0] for r in order[1]] == [r[0] for r in order[2]]
    print(
        f"ranked as the truth ranks them: corrected {'yes' if same else 'NO'}, "
        f"as profiled {'yes' if raw_same else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small workloads, 1 round")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--arc-dsl", default=None, help="path to arc-dsl (run_solvers.py)")
    parser.add_argument("--modes", default="cprofile,sample,pyinstrument")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    modes = args.modes.split(",")
    works = built_in(args.quick)
    if args.arc_dsl:
        works.append(arc_dsl(args.arc_dsl, args.quick))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start"
    )
    print(
        f"medians of {repeats} runs each; truth: the calls into each category timed where they happen (truth.py)"
    )
    session = Session({})
    worst: dict[str, float] = {}
    for work in works:
        work.run()
        true = truth_shares(work, repeats)
        results = {mode: profiled_shares(work, session, mode, repeats) for mode in modes}
        print(f"\n{work.name}: share of the run, % (truth without a profiler)")
        header = f"{'category':<12}{'truth':>8}"
        for mode in modes:
            header += f"{mode + ' raw':>17}{mode + ' corr.':>18}"
        print(header)
        for label, value in true.items():
            line = f"{label:<12}{value:>7.1f}%"
            for mode in modes:
                fixed, raw, _report = results[mode]
                diff = fixed[label] - value
                worst[mode] = max(worst.get(mode, 0.0), abs(diff))
                line += f"{raw[label]:>16.1f}%{fixed[label]:>10.1f}% ({diff:+.1f})"
            print(line)
        if work.functions and "cprofile" in results:
            function_truth(work, results["cprofile"][2], repeats)
    print(
        "\nlargest |corrected - truth| per mode, points: "
        + ", ".join(f"{mode} {value:.1f}" for mode, value in worst.items())
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
