"""`workbench`: the command line, for headless runs where no notebook is open."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.ui.arguments import add_run_options

DEMO_CELL = """\
from workbench.demo import run_demo
demo_result = run_demo(n_tasks={tasks})
demo_result
"""


def demo_rules() -> Path:
    """The category preset for the demo, as shipped inside the package."""
    return Path(__file__).parent / "demo" / "categories.toml"


def cmd_demo(args: argparse.Namespace) -> int:
    """Run %%optimize on the embedded ARC demo in a headless shell and save the report."""
    from workbench.ui.headless import run_cell_magic

    if args.tasks < 1:
        raise WorkbenchError(f"--tasks must be at least 1, got {args.tasks}")
    label = shlex.quote(f"ARC demo, {args.tasks} tasks")
    line = (
        f"--rules {shlex.quote(str(demo_rules()))} --chart {args.chart} --top {args.top} "
        f"--label {label}"
    )
    if args.overhead:
        line += " --overhead"
    report, error = run_cell_magic(line, DEMO_CELL.format(tasks=args.tasks))
    written = report.save(args.out)
    print(report.to_text())
    print()
    summary = getattr(report.result, "summary", None)
    outcome = summary() if callable(summary) else repr(report.result)
    print(f"demo: {outcome}")
    print(f"Report written to {Path(args.out).resolve()}/:")
    for path in written.values():
        print(f"  {path.name}")
    if error is not None:
        print(f"error: the demo raised {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Profile a script as ``python SCRIPT.py ARGS`` would run it; write the report folder."""
    import traceback

    from workbench.options import Options
    from workbench.profiler import compile_source, profile_steps
    from workbench.ui.arguments import given, unquote

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
        label=unquote(args.label) if args.label else script.name,
    )
    namespace: dict[str, object] = {"__name__": "__main__", "__file__": str(script)}
    filename = str(script.resolve())
    steps = compile_source(source, namespace, filename=filename)
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(script), *args.args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        report, error = profile_steps(
            steps, options, source=source, filename=filename, namespace=namespace
        )
    finally:
        sys.argv[:] = saved_argv
        sys.path[:] = saved_path
    if isinstance(error, SystemExit) and error.code in (0, None):
        error = None
    written = report.save(out)
    print(report.to_text())
    print(f"\nReport written to {out.resolve()}/: {', '.join(p.name for p in written.values())}")
    if error is None:
        return 0
    print(f"\nworkbench: {script.name} failed; the report covers what ran before:", file=sys.stderr)
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    if isinstance(error, SystemExit) and isinstance(error.code, int):
        return error.code
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Profile Python by category and optimise it with evidence.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="Profile the embedded ARC demo and write the report.")
    demo.add_argument("--out", default="reports/demo", help="Folder for the report files.")
    demo.add_argument("--tasks", type=int, default=40, help="ARC tasks to search (default 40).")
    demo.add_argument("--top", type=int, default=5, help="Top functions per category.")
    demo.add_argument("--chart", choices=["inline", "cdn", "none"], default="inline")
    demo.add_argument("--overhead", action="store_true", help="Measure overhead with a plain run.")
    demo.set_defaults(func=cmd_demo)
    prof = sub.add_parser(
        "profile",
        help="Profile a script headless and write the report folder.",
        description="Options go before the script; everything after it is the script's own.",
    )
    add_run_options(prof)
    prof.add_argument("--out", help="Folder for the report files (default reports/SCRIPT).")
    prof.add_argument("script", help="The Python script to run.")
    prof.add_argument("args", nargs=argparse.REMAINDER, help="Arguments for the script.")
    prof.set_defaults(func=cmd_profile)
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
