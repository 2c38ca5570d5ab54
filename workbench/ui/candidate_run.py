"""``%%optimize --candidate NAME``: profile the candidate, then measure it against a baseline.

The candidate cell runs once under the profiler in the user's namespace (as a normal
``%%optimize`` run, recorded in the store). Then the baseline's stored code and the
candidate cell are re-run, interleaved, each in a fresh shallow copy of the namespace (so
the re-runs do not pile up variables, and both pay the same costs), within the budget.
The verdict, the timings and the category comparison are stored with the experiment.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from workbench.errors import ExperimentError, WorkbenchError
from workbench.experiment.compare import compare_stored
from workbench.experiment.findings import dominant_category, overhead_without_benefit
from workbench.experiment.measure import ExperimentResult, Plan, Subject, measure_subjects
from workbench.experiment.outputs import Outputs, Tolerance, collect, thaw
from workbench.experiment.workflow import Workflow
from workbench.profiling.options import Options
from workbench.profiling.run import profile_steps, steps_from_ast
from workbench.store.db import RunStore, StoredBaseline
from workbench.ui.experiment_magic import (
    Lab,
    fingerprint,
    note_findings,
    quiet_output,
    unquote,
    usage,
)


def compile_cell(shell: Any, code: str) -> tuple[ast.Module, str]:
    """IPython-transform and parse cell code; a syntax error is a UsageError."""
    transformed = shell.transform_cell(code)
    filename: str = shell.compile.cache(transformed, 0, raw_code=code)
    try:
        tree = shell.compile.ast_parse(transformed, filename=filename)
    except SyntaxError as exc:
        raise UsageError(f"cannot parse the code: {exc}") from None
    return tree, filename


def cell_subject(
    label: str,
    shell: Any,
    tree: ast.Module,
    filename: str,
    make_namespace: Callable[[], dict[str, Any]],
    checks: list[str],
) -> Subject:
    """A Subject that runs parsed cell code in a fresh namespace from `make_namespace`.

    The checked variables are removed from the namespace before the first run, so a
    version that does not set them fails the check instead of passing on stale values.
    """
    has_result = bool(tree.body) and isinstance(tree.body[-1], ast.Expr)
    clock = time.perf_counter

    def first() -> tuple[float, Outputs]:
        namespace = make_namespace()
        for name in checks:  # the code must set them itself: no stale values
            namespace.pop(name, None)
        steps = steps_from_ast(tree, filename, namespace, shell.compile)
        value: object = None
        start = clock()
        for step in steps:
            value = step()
        elapsed = clock() - start
        return elapsed, collect(namespace, value if has_result else None, checks)

    def timed(number: int) -> float:
        namespace = make_namespace()
        steps = steps_from_ast(tree, filename, namespace, shell.compile)
        start = clock()
        for _ in range(number):
            for step in steps:
                step()
        return clock() - start

    return Subject(label, first, timed)


def guarded(subject: Subject, name: str) -> Subject:
    """The baseline Subject, with its errors said to come from the baseline's code."""

    def explain(exc: Exception) -> ExperimentError:
        return ExperimentError(
            f"the code of baseline {name!r} raised {type(exc).__name__}: {exc} when re-run: "
            "it must still run in this kernel (define what it uses, or record the baseline again)"
        )

    def first() -> tuple[float, Outputs]:
        try:
            return subject.first()
        except WorkbenchError:
            raise
        except Exception as exc:
            raise explain(exc) from exc

    def timed(number: int) -> float:
        try:
            return subject.timed(number)
        except Exception as exc:
            raise explain(exc) from exc

    return Subject(subject.label, first, timed)


def definition_notes(lab: Lab, baseline: StoredBaseline, namespace: dict[str, Any]) -> list[str]:
    """Say which functions the baseline uses were redefined since it was recorded."""
    snapshot = lab.snapshots.get(baseline.name, {})
    notes = []
    for name, digest in sorted(baseline.fingerprints.items()):
        current = namespace.get(name)
        if current is None or fingerprint(current) == digest:
            continue
        if name in snapshot:
            notes.append(
                f"{name!r} was redefined after baseline {baseline.name!r} was recorded; the "
                "baseline re-run uses the definition recorded with it (kept in this kernel)."
            )
        else:
            notes.append(
                f"{name!r} changed since baseline {baseline.name!r} was recorded in another "
                "kernel session: the baseline re-run uses the current definition, so it may not "
                "measure the old code. Record the baseline again, or keep the old function under "
                "another name."
            )
    return notes


def _prepare(lab: Lab, args: Any) -> tuple[Plan, Tolerance, RunStore, StoredBaseline, Workflow]:
    if args.no_store:
        raise UsageError("--candidate needs the run store: leave out --no-store")
    if args.baseline:
        raise UsageError(
            "give either --baseline NAME (record) or --candidate NAME (measure); pick the "
            "candidate's baseline with --against NAME"
        )
    try:
        plan = Plan(budget_s=args.budget)
        tolerance = Tolerance(args.rtol, args.atol)
        store = lab.store(args.store)
        baseline = store.baseline(unquote(args.against))
        workflow = Workflow(store, lab.workflow_name)
        workflow.start("Optimize", f"candidate {args.candidate!r}")
    except WorkbenchError as exc:
        raise usage(exc) from None
    return plan, tolerance, store, baseline, workflow


def run_candidate(magics: Any, args: Any, options: Options, code: str) -> None:
    """The whole ``--candidate`` flow; displays the verdict (or stores it with -o)."""
    lab: Lab = magics.lab
    shell = magics.ip
    name = args.candidate
    plan, tolerance, store, baseline, workflow = _prepare(lab, args)
    checks = list(args.check) or list(baseline.checks)
    base_tree, base_file = compile_cell(shell, baseline.code)
    cand_tree, cand_file = compile_cell(shell, code)
    started = time.perf_counter()
    if not args.label:
        options.label = f"candidate {name}"
    try:
        steps, transformed, filename = magics._steps(code)
        report, error = profile_steps(
            steps, options, source=transformed, filename=filename, namespace=shell.user_ns
        )
    except WorkbenchError as exc:  # e.g. another profiler is running: nothing ran
        with store.write() as writer:
            writer.add_phase_event(workflow.name, "Optimize", "Failed", str(exc))
        raise usage(exc) from None
    findings = lab.findings(None, report)
    note_findings(report, findings)
    try:
        with store.write() as writer:
            run_id = writer.add_run(
                report,
                env=lab.environment(),
                kind="candidate",
                name=name,
                code=code,
                session=lab.session,
                findings=findings,
            )
            if error is None:
                writer.add_phase_event(
                    workflow.name, "Optimize", "Completed", f"candidate {name!r} ran", run_id=run_id
                )
                writer.add_phase_event(
                    workflow.name, "Validate", "InProgress", f"measuring {name!r}", run_id=run_id
                )
            else:
                writer.add_phase_event(
                    workflow.name,
                    "Optimize",
                    "Failed",
                    f"candidate {name!r} raised {report.error}",
                    run_id=run_id,
                )
    except WorkbenchError as exc:
        raise usage(exc) from None
    if error is not None:
        if not args.quiet:
            display(report)
        raise error
    snapshot = lab.snapshots.get(baseline.name, {})
    user_ns = shell.user_ns
    base = guarded(
        cell_subject(
            "baseline", shell, base_tree, base_file, lambda: {**user_ns, **snapshot}, checks
        ),
        baseline.name,
    )
    cand = cell_subject("candidate", shell, cand_tree, cand_file, lambda: dict(user_ns), checks)
    notes = definition_notes(lab, baseline, user_ns)
    reference = None
    if baseline.outputs is not None and checks == list(baseline.checks):
        try:
            reference = thaw(baseline.outputs)
        except ExperimentError as exc:
            notes.append(f"The recorded outputs were not used: {exc}")
    try:
        with quiet_output():
            result = measure_subjects(
                base,
                cand,
                name=name,
                baseline_name=baseline.name,
                plan=plan,
                tolerance=tolerance,
                checks=checks,
                reference=reference,
                spent_s=time.perf_counter() - started,
            )
    except BaseException as exc:
        with store.write() as writer:
            writer.add_phase_event(
                workflow.name,
                "Validate",
                "Failed",
                f"candidate {name!r} could not be measured: {type(exc).__name__}: {exc}",
                run_id=run_id,
            )
        if isinstance(exc, WorkbenchError):
            raise usage(exc) from None
        raise
    finish(lab, store, workflow, result, report, baseline, run_id, findings, notes)
    if args.output:
        shell.user_ns[args.output] = result
    if not args.quiet:
        display(result)


def finish(
    lab: Lab,
    store: RunStore,
    workflow: Workflow,
    result: ExperimentResult,
    report: Any,
    baseline: StoredBaseline,
    run_id: int,
    findings: list[dict[str, Any]],
    notes: list[str],
) -> None:
    """Compare the profiles, add the findings, store the experiment and the Validate state."""
    result.candidate_report = report
    result.baseline_run = baseline.run_id
    result.candidate_run = run_id
    result.notes = notes + result.notes
    comparison = compare_stored(store, baseline.run_id, run_id)
    result.comparison = comparison
    changed = sorted(
        comparison.categories.loc[
            comparison.categories["status"].isin(["faster", "slower", "gone"]), "category"
        ]
    )
    gained = result.baseline_median - result.candidate_median
    scale = result.candidate_median / report.profiled_s if report.profiled_s > 0 else 1.0
    noise_s = comparison.noise.pct / 100.0 * result.baseline_median
    found = overhead_without_benefit(comparison.functions, gained, scale, noise_s)
    previous = store.experiments()
    worked = {c for row in previous for c in row.detail.get("changed_categories", [])} | set(
        changed
    )
    found += dominant_category(report.categories, worked, experiments=len(previous) + 1)
    result.findings = findings + [f.to_dict() for f in found]
    row = result.to_row()
    row.detail["changed_categories"] = changed
    try:
        with store.write() as writer:
            result.experiment_id = writer.add_experiment(row)
            state = "Completed" if result.verdict == "keep" else "Failed"
            writer.add_phase_event(
                workflow.name,
                "Validate",
                state,
                f"{result.verdict}: {result.reason}",
                run_id=run_id,
                experiment_id=result.experiment_id,
            )
    except WorkbenchError as exc:
        raise usage(exc) from None
