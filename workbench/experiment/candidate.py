"""A candidate measured against its stored baseline, and the experiment recorded.

The session (:mod:`workbench.experiment.session`) profiles the candidate; these two steps
follow: :func:`measure_against` re-runs both versions interleaved, each a subject
(:func:`cell_subject`) running its parsed cell in a fresh copy of the namespace, and
decides; :func:`record_experiment` compares the two profiles, adds the findings and
records the experiment with its Validate event, returning the finished
:class:`~workbench.experiment.result.ExperimentResult`.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from workbench.errors import ExperimentError, WorkbenchError
from workbench.experiment.cells import Around, Cell, fingerprint
from workbench.experiment.compare import compare_stored, with_changes
from workbench.experiment.findings import dominant_category, overhead_without_benefit
from workbench.experiment.measure import Clock, Plan, RoundHook, Subject, measure_subjects
from workbench.experiment.outputs import Outputs, Tolerance, collect, thaw
from workbench.experiment.result import ExperimentResult
from workbench.experiment.targets import Site, targeted_categories
from workbench.experiment.workflow import Workflow
from workbench.profiling.categories import Ruleset
from workbench.profiling.report import Report
from workbench.profiling.round_shares import RoundShares, category_changes
from workbench.store.db import RunStore, StoredBaseline


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Keep the re-runs' prints out of the cell's output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def cell_subject(
    label: str,
    cell: Cell,
    make_namespace: Callable[[], dict[str, Any]],
    checks: Sequence[str],
    *,
    clock: Clock = time.perf_counter,
    around: Around | None = None,
) -> Subject:
    """A Subject that runs a parsed cell in a fresh namespace from `make_namespace`.

    The checked variables are removed from the namespace before the first run, so a
    version that does not set them fails the check instead of passing on stale values.
    With `around`, every sample happens inside that context, and the namespace is copied
    inside it (a name patched in place is copied patched). A context whose value has a
    ``between()`` method (a :class:`~workbench.experiment.patch.Patch`) gets it called
    between the repeats of a sample, outside the timed part, so each repeat starts afresh.
    """
    context = around or contextlib.nullcontext

    def first() -> tuple[float, Outputs]:
        value: object = None
        with context():
            namespace = make_namespace()
            for name in checks:  # the code must set them itself: no stale values
                namespace.pop(name, None)
            steps = cell.steps(namespace)
            start = clock()
            for step in steps:
                value = step()
            elapsed = clock() - start
            return elapsed, collect(namespace, value if cell.has_result else None, checks)

    def timed(number: int) -> float:
        with context() as entered:
            steps = cell.steps(make_namespace())
            between = getattr(entered, "between", None)
            if not callable(between):
                start = clock()
                for _ in range(number):
                    for step in steps:
                        step()
                return clock() - start
            spent = 0.0
            for repeat in range(number):
                if repeat:
                    between()
                start = clock()
                for step in steps:
                    step()
                spent += clock() - start
            return spent

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


def definition_notes(
    base: StoredBaseline, namespace: Mapping[str, Any], snapshot: Mapping[str, Any]
) -> list[str]:
    """Say which functions the baseline uses were redefined since it was recorded;
    `snapshot` holds the definitions kept with it in this kernel."""
    notes = []
    for name, digest in sorted(base.fingerprints.items()):
        current = namespace.get(name)
        if current is None or fingerprint(current) == digest:
            continue
        if name in snapshot:
            notes.append(
                f"{name!r} was redefined after baseline {base.name!r} was recorded; the "
                "baseline re-run uses the definition recorded with it (kept in this kernel)."
            )
        else:
            notes.append(
                f"{name!r} changed since baseline {base.name!r} was recorded in another "
                "kernel session: the baseline re-run uses the current definition, so it may "
                "not measure the old code. Record the baseline again, or keep the old "
                "function under another name."
            )
    return notes


def measure_against(
    name: str,
    base: StoredBaseline,
    base_cell: Cell,
    cand_cell: Cell,
    *,
    namespace: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    checks: list[str],
    plan: Plan,
    tolerance: Tolerance,
    clock: Clock,
    spent_s: float,
    on_round: RoundHook | None = None,
    around: Around | None = None,
    ruleset: Ruleset | None = None,
) -> ExperimentResult:
    """Both versions re-run, interleaved, each in a fresh copy of `namespace` (the
    baseline's with its recorded definitions); the result, not yet recorded. With a
    `ruleset`, every timed run is sampled (:mod:`workbench.profiling.round_shares`) so
    that each category's change gets an interval from the rounds."""
    baseline = guarded(
        cell_subject("baseline", base_cell, lambda: {**namespace, **snapshot}, checks, clock=clock),
        base.name,
    )
    candidate = cell_subject(
        "candidate", cand_cell, lambda: dict(namespace), checks, clock=clock, around=around
    )
    shares = RoundShares(ruleset) if ruleset is not None else None
    if shares is not None:
        baseline = Subject(baseline.label, baseline.first, shares.timed("baseline", baseline.timed))
        candidate = Subject(
            candidate.label, candidate.first, shares.timed("candidate", candidate.timed)
        )
    notes = definition_notes(base, namespace, snapshot)
    reference = None
    if base.outputs is not None and checks == list(base.checks):
        try:
            reference = thaw(base.outputs)
        except ExperimentError as exc:
            notes.append(f"The recorded outputs were not used: {exc}")
    with quiet_output():
        measured = measure_subjects(
            baseline,
            candidate,
            plan=plan,
            tolerance=tolerance,
            reference=reference,
            clock=clock,
            spent_s=spent_s,
            on_round=on_round,
        )
    result = ExperimentResult.of(
        measured,
        name=name,
        baseline_name=base.name,
        tolerance=tolerance,
        checks=checks,
        plan=plan,
        notes=notes,
    )
    if shares is None:
        return result
    changes = category_changes(
        shares.rounds.get("baseline", []), shares.rounds.get("candidate", []), plan.confidence
    )
    return replace(result, category_changes=changes)


def record_experiment(
    store: RunStore,
    workflow: Workflow,
    measured: ExperimentResult,
    report: Report,
    base: StoredBaseline,
    run_id: int,
    findings: list[dict[str, Any]],
    prediction: Mapping[str, Any] | None = None,
    targets: Sequence[Site] = (),
) -> ExperimentResult:
    """Compare the profiles, add the findings (and the what-if prediction, with
    ``--try``), record the experiment and Validate; the finished result. `targets` are
    the functions the change targets (see :mod:`workbench.experiment.targets`): their
    categories in the baseline are being worked on."""
    comparison = with_changes(compare_stored(store, base.run_id, run_id), measured.category_changes)
    status = comparison.categories["status"]
    changed = sorted(
        comparison.categories.loc[
            status.isin(["faster", "slower", "less time", "more time", "gone"]), "category"
        ]
    )
    gained = measured.baseline_median - measured.candidate_median
    scale = measured.candidate_median / report.profiled_s if report.profiled_s > 0 else 1.0
    noise_s = comparison.noise.pct / 100.0 * measured.baseline_median
    found = overhead_without_benefit(comparison.functions, gained, scale, noise_s)
    previous = store.experiments()
    worked = {c for row in previous for c in row.detail.get("changed_categories", [])}
    ran_before = comparison.functions[comparison.functions["calls_a"] > 0]
    worked |= targeted_categories(ran_before, targets)
    found += dominant_category(
        report.categories, worked | set(changed), experiments=len(previous) + 1
    )
    result = replace(
        measured,
        baseline_run=base.run_id,
        candidate_run=run_id,
        candidate_report=report,
        comparison=comparison,
        findings=(*findings, *(f.to_dict() for f in found)),
        prediction=prediction,
    )
    with store.write() as writer:
        experiment_id = writer.add_experiment(result.to_row({"changed_categories": changed}))
        result = replace(result, experiment_id=experiment_id)
        workflow.validated(writer, result)
    return result
