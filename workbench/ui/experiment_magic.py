"""What ``%%optimize`` does beyond profiling: record runs, baselines, candidates, workflow.

The magic (``workbench/ui/magics.py``) stays thin: it adds :func:`experiment_arguments` to
its options, keeps one :class:`Lab` per shell, and calls :func:`record_profile` after each
profiled run, :func:`run_candidate` for ``--candidate`` and :func:`line_action` for the
line forms that take no code (``--compare``, ``--postmortem``, ``--workflow``, ...).
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import sys
import time
import types
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument

from workbench import machine
from workbench.errors import WorkbenchError
from workbench.experiment.findings import SourceIndex, dominant_category, gpu_never_ran
from workbench.experiment.outputs import collect, freeze
from workbench.experiment.workflow import DEFAULT_WORKFLOW
from workbench.profiling.report import Report
from workbench.store.db import RunStore, Writer

_ARGUMENTS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--baseline",),
        {
            "metavar": "NAME",
            "help": "Record this run as the baseline NAME: its code, profile and outputs go to the run store.",
        },
    ),
    (
        ("--candidate",),
        {
            "metavar": "NAME",
            "help": "Run this cell as candidate NAME against a baseline: profile it once, then RE-RUN both the baseline's stored code and this cell, interleaved, within --budget; report the speedup with a confidence interval, check the outputs and give a verdict (keep, revert, broken). Both re-run in copies of your namespace. -o NAME stores the ExperimentResult.",
        },
    ),
    (
        ("--against",),
        {
            "metavar": "NAME",
            "help": "The baseline a candidate is measured against (default: the latest recorded).",
        },
    ),
    (
        ("--check",),
        {
            "action": "append",
            "default": [],
            "metavar": "VAR",
            "help": "Compare the variable VAR instead of the cell's result (repeatable).",
        },
    ),
    (
        ("--budget",),
        {
            "type": float,
            "default": 30.0,
            "metavar": "SECONDS",
            "help": "Time budget of a candidate's experiment (default 30).",
        },
    ),
    (
        ("--rtol",),
        {
            "type": float,
            "default": 1e-7,
            "help": "Relative tolerance for floats in the output check.",
        },
    ),
    (
        ("--atol",),
        {
            "type": float,
            "default": 0.0,
            "help": "Absolute tolerance for floats in the output check.",
        },
    ),
    (
        ("--compare",),
        {
            "nargs": 2,
            "metavar": ("A", "B"),
            "help": "Line form: diff stored runs A and B (ids, -1 for the latest, names) by category and function.",
        },
    ),
    (
        ("--postmortem",),
        {
            "metavar": "FILE",
            "help": "Line form: write the postmortem (markdown) of the stored runs and experiments to FILE.",
        },
    ),
    (
        ("--target",),
        {
            "type": float,
            "metavar": "PCT",
            "help": "With --postmortem: the goal as a cut of the baseline's time, e.g. 60 for -60%%.",
        },
    ),
    (("--title",), {"metavar": "TEXT", "help": "With --postmortem: its title."}),
    (("--redact",), {"action": "store_true", "help": "With --postmortem: leave source code out."}),
    (
        ("--workflow",),
        {
            "action": "store_true",
            "help": "Line form: show the workflow phases and what blocks them.",
        },
    ),
    (
        ("--resolve",),
        {
            "metavar": "PHASE",
            "help": "Line form: mark a failed workflow PHASE resolved (with --note).",
        },
    ),
    (("--note",), {"metavar": "TEXT", "help": "With --resolve: how the phase was resolved."}),
    (("--runs",), {"action": "store_true", "help": "Line form: list the stored runs."}),
    (
        ("--store",),
        {
            "metavar": "PATH",
            "help": "The run store file (default: WORKBENCH_STORE, [tool.workbench] store, or .workbench/runs.sqlite in the project). Alone on a line: use PATH from now on.",
        },
    ),
    (("--no-store",), {"action": "store_true", "help": "Do not record this run in the run store."}),
]


def experiment_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the run-store and experiment options to the magic (one decorator line there)."""
    for flags, kwargs in reversed(_ARGUMENTS):
        func = argument(*flags, **kwargs)(func)
    return func


def unquote(text: str | None) -> str | None:
    """A value without the quotes the magic line kept around it."""
    if text is not None and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


class Lab:
    """Run-store state for one shell: the open store, the device, parsed sources, and the
    definitions each baseline used (so a baseline re-run in this kernel uses them)."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.store_path: str | None = None
        self.workflow_name = DEFAULT_WORKFLOW
        self.sources = SourceIndex()
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.session = f"{os.getpid()}-{int(time.time())}"
        self.start_dir = os.getcwd()  # the store stays put when a cell calls os.chdir
        self._store: RunStore | None = None
        self._device: str | None = None

    def store(self, path: str | None = None) -> RunStore:
        """The run store for `path` (or the session's, or the default), kept open."""
        from workbench.store.db import resolve_store_path

        target = resolve_store_path(unquote(path) or self.store_path, start=self.start_dir)
        if self._store is None or self._store.path != target or self._store.closed:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._store = RunStore(target)
        return self._store

    def environment(self) -> machine.Environment:
        """Git commit, versions and the device (described once per kernel)."""
        if self._device is None:
            self._device = machine.describe_device()
        return machine.current_environment(device=self._device)

    def findings(self, store: RunStore | None, report: Report) -> list[dict[str, Any]]:
        """Findings for a profiled run, as stored and shown."""
        if report.functions.empty:
            return []
        found = gpu_never_ran(
            report.functions, report.categories, namespace=self.shell.user_ns, index=self.sources
        )
        if store is not None:
            rows = store.experiments()
            worked = {c for row in rows for c in row.detail.get("changed_categories", [])}
            found += dominant_category(report.categories, worked, experiments=len(rows))
        return [f.to_dict() for f in found]


def note_findings(report: Report, findings: list[dict[str, Any]]) -> None:
    """Show the findings among the report's notes."""
    for f in findings:
        report.extra_notes.append(f"Finding: {f['title']}. {f['detail']}")


def referenced_objects(code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """The functions and classes of `namespace` that `code` names directly."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return {
        name: namespace[name]
        for name in sorted(names)
        if name in namespace and isinstance(namespace[name], types.FunctionType | type)
    }


def fingerprint(value: Any) -> str:
    """A digest of a function's code (or a class's name), to tell when it was redefined."""
    import hashlib

    code = getattr(value, "__code__", None)
    if not isinstance(code, types.CodeType):
        return f"{type(value).__name__}:{getattr(value, '__qualname__', '')}"
    digest = hashlib.sha1()
    stack = [code]
    while stack:
        item = stack.pop()
        digest.update(item.co_code)
        digest.update(repr(item.co_names).encode())
        for const in item.co_consts:
            if isinstance(const, types.CodeType):
                stack.append(const)
            else:
                digest.update(repr(const).encode())
    return digest.hexdigest()[:16]


def record_profile(magics: Any, args: Any, report: Report, code: str) -> str | None:
    """Findings, then the run (and a baseline, with ``--baseline``) in one transaction.

    Returns a message when the store could not take the run; the caller shows the report
    first and raises it afterwards, so a broken store never hides a profile.
    """
    lab: Lab = magics.lab
    if args.no_store:
        if args.baseline:
            return "--baseline needs the run store: leave out --no-store"
        note_findings(report, lab.findings(None, report))
        return None
    try:
        store = lab.store(args.store)
    except WorkbenchError as exc:
        note_findings(report, lab.findings(None, report))
        return f"the report is shown but was not recorded: {exc}"
    findings = lab.findings(store, report)
    note_findings(report, findings)
    outputs: bytes | None = None
    problem = None
    if args.baseline and report.complete:
        try:
            values = collect(magics.ip.user_ns, report.result, args.check)
            outputs = freeze(values, "baseline")
        except WorkbenchError as exc:
            problem = f"baseline {args.baseline!r} was not recorded: {exc}"
    kind = "baseline" if args.baseline and problem is None and report.complete else "profile"
    try:
        with store.write() as writer:
            run_id = writer.add_run(
                report,
                env=lab.environment(),
                kind=kind,
                name=args.baseline if kind == "baseline" else None,
                code=code,
                session=lab.session,
                findings=findings,
            )
            if kind == "baseline":
                used = referenced_objects(code, magics.ip.user_ns)
                writer.set_baseline(
                    args.baseline,
                    run_id,
                    code,
                    args.check,
                    outputs,
                    {name: fingerprint(value) for name, value in used.items()},
                )
                lab.snapshots[args.baseline] = used
            profile_events(writer, lab.workflow_name, report, run_id, findings)
    except WorkbenchError as exc:
        return f"the report is shown but was not recorded: {exc}"
    if problem is None and args.baseline and not report.complete:
        problem = f"baseline {args.baseline!r} was not recorded: the cell raised {report.error}"
    return problem


def profile_events(
    writer: Writer, workflow: str, report: Report, run_id: int, findings: list[dict[str, Any]]
) -> None:
    """Profile (and, when it completed, Analyze) events for a recorded run."""
    if report.complete:
        writer.add_phase_event(
            workflow, "Profile", "Completed", f"profiled {report.label!r}", run_id=run_id
        )
        writer.add_phase_event(
            workflow, "Analyze", "Completed", f"{len(findings)} finding(s)", run_id=run_id
        )
    else:
        writer.add_phase_event(
            workflow, "Profile", "Failed", f"the code raised {report.error}", run_id=run_id
        )


def warn(message: str) -> None:
    """A store problem that cannot be raised because the cell's own error is."""
    print(f"workbench: {message}", file=sys.stderr)


@contextlib.contextmanager
def quiet_output() -> Any:
    """Keep the re-runs' prints out of the cell's output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def usage(exc: BaseException) -> UsageError:
    """A WorkbenchError as the one-line error a magic raises."""
    return UsageError(str(exc))
