"""`workbench`: the command line, for headless runs where no notebook is open."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.experiment.session import Session
    from workbench.profiling.options import Options

DEMO_CELL = """\
from workbench.demo import run_demo
demo_result = run_demo(n_tasks={tasks})
demo_result
"""


def demo_rules() -> Path:
    """The demo's category rules, as shipped inside the package."""
    return Path(__file__).parent / "demo" / "categories.toml"


def demo_session(args: argparse.Namespace) -> tuple[Session, Options]:
    """The session the demo's cells run in, and the options of its baseline."""
    from workbench import progress
    from workbench.experiment.session import Session

    session = Session({}, origin="workbench demo", stage=progress.stage)
    given = {
        "rules": str(demo_rules()),
        "chart": args.chart,
        "top": args.top,
        "overhead": True if args.overhead else None,
        "whatif": None if args.profile_only else True,
    }
    return session, session.options(given, label=f"ARC demo, {args.tasks} tasks")


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole loop on the embedded ARC demo, headless: profile (the baseline, with the
    what-if pass), calibrate and route, the change the what-if pass predicts best tried
    in place against the baseline, and the postmortem (predicted against measured)."""
    from workbench.experiment.measure import Plan

    if args.tasks < 1:
        raise WorkbenchError(f"--tasks must be at least 1, got {args.tasks}")
    Plan(budget_s=args.budget)  # refused here, before anything runs
    out = Path(args.out)
    session, options = demo_session(args)
    try:
        return _demo(args, out, session, options)
    finally:
        session.close()


def _demo(args: argparse.Namespace, out: Path, session: Session, options: Options) -> int:
    what = "" if args.profile_only else ", with the what-if pass"
    print(f"1/5 profile: the baseline 'demo', run_demo(n_tasks={args.tasks}){what}")
    outcome = session.baseline("demo", DEMO_CELL.format(tasks=args.tasks), options)
    report = outcome.report
    problem = outcome.problem
    written: dict[str, Path] = {}
    try:
        written = report.save(out)
    except WorkbenchError as exc:  # said after the report and the demo's own error
        problem = f"{problem}; {exc}" if problem else str(exc)
    print(report.to_text())
    summary = getattr(report.result, "summary", None)
    print(f"\ndemo: {summary() if callable(summary) else repr(report.result)}")
    if outcome.error is not None:
        error = outcome.error
        print(f"error: the demo raised {type(error).__name__}: {error}", file=sys.stderr)
        if problem is not None:
            print(f"workbench: error: {problem}", file=sys.stderr)
        return 1
    if problem is not None:
        raise WorkbenchError(problem)
    if not args.profile_only:
        written.update(_loop(args, out, session))
    print(f"\nArtefacts in {out.resolve()}/:")
    for path in sorted(set(written.values())):
        print(f"  {path.name}")
    return 0


def _loop(args: argparse.Namespace, out: Path, session: Session) -> dict[str, Path]:
    """Steps 2 to 5 of the demo: calibrate, route, experiment, postmortem."""
    import numpy as np

    from workbench import progress
    from workbench.calibration import calibrate, fit, log_sizes
    from workbench.calibration.text import thresholds_text
    from workbench.experiment.measure import Plan
    from workbench.report.postmortem import postmortem
    from workbench.route import Router

    print(f"\n2/5 calibrate: add, sum, matmul, standard_scale here, {args.calibrate_budget:g} s")
    cal = calibrate(
        ["add", "sum", "matmul", "standard_scale"],
        budget_s=args.calibrate_budget,
        sizes=log_sizes(10, 1e6),
        progress=progress.steps("calibrating"),
    )
    result = fit(cal)
    print(cal.summary())
    print(thresholds_text(result))
    profile_path = result.profile(name="demo").save(out / "machine-profile.json")
    print("\n3/5 route: the router on the calibrated profile")
    router = Router(profile_path)
    grids = np.random.default_rng(0).integers(0, 10, size=(400, 30, 30)).astype(np.float64)
    for op, operands in (
        ("sum", (grids,)),
        ("standard_scale", (grids.reshape(-1, 30),)),
        ("matmul", (grids[0], grids[1])),
        ("add", (grids[0].tolist(), grids[1].tolist())),
    ):
        decision = router.decide(op, *operands)
        print(f"  {op}: {decision.backend.label} - {router.explain(op, *operands).reason}")
    options = session.options({"rules": str(demo_rules())})
    spec = best_change(session)
    if spec is None:
        print("\n4/5 experiment: skipped: the what-if pass found no change it can apply")
    else:
        print(
            f"\n4/5 experiment: --try {spec}, the change the what-if pass predicts best, "
            f"measured against the baseline ({args.budget:g} s)"
        )
        session.on_round = rounds = progress.rounds(f"candidate {spec!r}: rounds")
        try:
            candidacy = session.try_change(
                spec,
                DEMO_CELL.format(tasks=args.tasks),
                options,
                against="demo",
                plan=Plan(budget_s=args.budget),
            )
        finally:
            rounds.close()
            session.on_round = None
        if candidacy.error is not None:
            error = candidacy.error
            raise WorkbenchError(f"the candidate raised {type(error).__name__}: {error}")
        print(repr(candidacy.result))
        line = candidacy.result.prediction_line() if candidacy.result is not None else None
        if line is not None:
            print(line)
    print("\n5/5 postmortem: written from the run store")
    path = out / "postmortem.md"
    postmortem(path, store=session.store().path, target_pct=5, origin=session.origin)
    return {"machine-profile": profile_path, "postmortem": path}


def best_change(session: Session) -> str | None:
    """The ``--try`` of the change the session's latest what-if pass predicts best: the
    best recommended one, else the best it can apply at all."""
    if session.last_whatif is None:
        return None
    table = session.last_whatif[1].changes
    appliable = table[table["try"] != ""]
    if appliable.empty:
        return None
    recommended = appliable[appliable["recommended"]]
    best = recommended if not recommended.empty else appliable
    return str(best.iloc[0]["try"])


def cmd_profile(args: argparse.Namespace) -> int:
    """Profile a script as ``python SCRIPT.py ARGS`` would run it; write the report folder."""
    import traceback

    from workbench.profiling.options import Options
    from workbench.profiling.run import compile_source, profile_steps
    from workbench.profiling.script import as_main
    from workbench.ui.arguments import given

    script = Path(args.script)
    try:
        source = script.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(f"cannot read script {str(script)!r}: {exc.strerror or exc}") from None
    out = Path(args.out or Path("reports") / script.stem)
    options = Options.build(
        given(args),
        categories=args.category,
        use_pyproject=not args.no_pyproject,
        label=args.label or script.name,
    )
    filename = str(script.resolve())
    with as_main(script, args.args) as namespace:
        steps = compile_source(source, namespace, filename=filename)
        report, error = profile_steps(
            steps, options, source=source, filename=filename, namespace=namespace
        )
    if isinstance(error, SystemExit) and error.code in (0, None):
        error = None
    problem = None
    try:
        written: dict[str, Path] | None = report.save(out)
    except WorkbenchError as exc:  # said after the report, never instead of the script's error
        written, problem = None, exc
    print(report.to_text())
    if written is not None:
        names = ", ".join(p.name for p in written.values())
        print(f"\nReport written to {out.resolve()}/: {names}")
    else:
        print(f"\nworkbench: error: {problem}", file=sys.stderr)
    if error is None:
        return 0 if problem is None else 2
    print(f"\nworkbench: {script.name} failed; the report covers what ran before:", file=sys.stderr)
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    if isinstance(error, SystemExit) and isinstance(error.code, int):
        return error.code
    return 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Sweep the ops on every backend here, fit thresholds, write a machine profile."""
    from workbench.calibration import calibrate
    from workbench.calibration import text as t
    from workbench.calibration.fit import fit
    from workbench.calibration.progress import TextProgress
    from workbench.calibration.saving import save_profile
    from workbench.route.measure import measure_profile

    devices = None if args.device is None else sorted(set(args.device))
    bar = TextProgress()
    try:
        cal = calibrate(
            args.ops,
            budget_s=args.budget,
            devices=devices,
            gpu_enabled=False if args.cpu_only else None,
            dtype=args.dtype,
            progress=bar,
        )
    finally:
        bar.close()
    print(cal.summary())
    result = fit(cal)
    costs = None
    if not cal.interrupted and not args.no_costs:
        costs = measure_profile(gpu_on=False if args.cpu_only else None)
    profile = result.profile(name=args.name, costs=costs)
    _, where = save_profile(profile, args.out, interrupted=cal.interrupted)
    for title, body in (
        ("Fitted thresholds (sizes in elements of the largest operand)", t.thresholds_text(result)),
        ("Crossovers", t.crossovers_text(result)),
        ("First calls and setup", t.first_calls_text(result)),
        ("Host<->device copies", t.bandwidth_text(result)),
    ):
        if body:
            print(f"\n{title}\n{body}")
    print(f"\n{t.summary_text(result)}")
    if cal.interrupted:
        print(where, file=sys.stderr)
        return 130
    print(where)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Profile Python by category and optimise it with evidence.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="The whole loop on the embedded ARC demo: profile with the what-if pass, calibrate, "
        "route, try the change it predicts best, postmortem.",
    )
    demo.add_argument("--out", default="reports/demo", help="Folder for the report files.")
    demo.add_argument("--tasks", type=int, default=8, help="ARC tasks to search (default 8).")
    demo.add_argument(
        "--profile-only", action="store_true", help="Stop after the profile (step 1)."
    )
    demo.add_argument(
        "--calibrate-budget", type=float, default=10.0, help="Seconds of calibration (default 10)."
    )
    demo.add_argument(
        "--budget", type=float, default=20.0, help="Seconds of the experiment (default 20)."
    )
    demo.add_argument("--top", type=int, default=5, help="Top functions per category.")
    demo.add_argument("--chart", choices=["inline", "cdn", "none"], default="inline")
    demo.add_argument("--overhead", action="store_true", help="Measure overhead with a plain run.")
    demo.set_defaults(func=cmd_demo)
    prof = sub.add_parser(
        "profile",
        help="Profile a script headless and write the report folder.",
        description="Options go before the script; everything after it is the script's own.",
    )
    from workbench.ui.arguments import add_run_options

    add_run_options(prof)
    prof.add_argument("--out", help="Folder for the report files (default reports/SCRIPT).")
    prof.add_argument("script", help="The Python script to run.")
    prof.add_argument("args", nargs=argparse.REMAINDER, help="Arguments for the script.")
    prof.set_defaults(func=cmd_profile)
    cal = sub.add_parser(
        "calibrate",
        help="Measure each op on pure Python, NumPy and CuPy here; write a machine profile.",
        description="Needs only NumPy (and CuPy for the GPU). Ctrl-C keeps what was measured.",
    )
    cal.add_argument(
        "--ops", nargs="+", metavar="OP", help="Ops to sweep (default: the eight families)."
    )
    cal.add_argument(
        "--budget",
        type=float,
        default=None,
        help="Seconds for the sweep (default 30 CPU-only, 57 per GPU).",
    )
    cal.add_argument(
        "--device",
        type=int,
        action="append",
        metavar="N",
        help="GPU index (repeatable; default all).",
    )
    cal.add_argument("--cpu-only", action="store_true", help="Leave the GPU out.")
    cal.add_argument("--dtype", default="float64", help="float64 (default) or float32.")
    cal.add_argument("--name", default="calibrated", help="The profile's name.")
    cal.add_argument(
        "--no-costs", action="store_true", help="Skip measuring the cost model's parameters."
    )
    cal.add_argument(
        "-o", "--out", default="machine-profile.json", help="Profile file to write (JSON)."
    )
    cal.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `workbench` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
