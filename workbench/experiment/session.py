"""The core session: runs, baselines and candidates, from plain values to finished results.

A :class:`Session` holds what one kernel (or one command) keeps between runs: the user's
namespace, how cells are compiled, the open run store, the per-call cost of cProfile on
this interpreter, parsed sources for the findings, and the definitions each baseline
used. Its methods take plain values (code or a callable, options, names) and return
finished, immutable results:

* :meth:`Session.profile` and :meth:`Session.baseline` return a :class:`Profiled`;
* :meth:`Session.candidate` returns a :class:`Candidacy` holding the ExperimentResult.

The magic (``workbench/ui/magics.py``) and the command line both call it; neither runs
code any other way. Extension points: `around` runs every candidate run inside a context
(a patch applied in place and restored), `on_round` reports each measured round, `stage`
is the context each re-run of the code happens in (progress bars), `origin` names the
notebook or script the runs come from (kept with each run), and every store access goes
through :meth:`Session.store`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import machine
from workbench.errors import ExperimentError, WorkbenchError
from workbench.experiment.cells import (
    Around,
    Cell,
    Compiler,
    PythonCompiler,
    fingerprint,
    referenced_objects,
)
from workbench.experiment.findings import (
    SourceIndex,
    dominant_category,
    gpu_never_ran,
)
from workbench.experiment.outputs import collect, freeze
from workbench.experiment.stored_outputs import MAX_STORED_BYTES
from workbench.experiment.targets import Site, defined_names, sites, targeted_categories
from workbench.experiment.workflow import DEFAULT_WORKFLOW, Workflow, WorkflowStatus
from workbench.profiling.breakdown import Tables
from workbench.profiling.capture import Clock, Step
from workbench.profiling.categories import ModuleIndex
from workbench.profiling.config import Project, read_project
from workbench.profiling.cost_model import CostModel, measure_cost_model, scaled_to
from workbench.profiling.options import Options
from workbench.profiling.report import Report
from workbench.profiling.run import Passes, Stage, build_report, run_passes
from workbench.route.recommend import router_for
from workbench.route.router import Router
from workbench.store.db import RunStore, StoredBaseline, resolve_store_path

if TYPE_CHECKING:
    import pandas as pd

    from workbench.experiment.compare import CompareResult
    from workbench.experiment.measure import Plan, RoundHook
    from workbench.experiment.outputs import Tolerance
    from workbench.experiment.result import ExperimentResult
    from workbench.profiling.whatif import WhatIfPass
    from workbench.profiling.whatif_costs import Costs
    from workbench.store.provenance import BaselineReview

Code = str | Callable[[], object]
__all__ = ["Candidacy", "Cell", "Compiler", "Profiled", "PythonCompiler", "Session"]


@dataclass(frozen=True)
class Profiled:
    """A profiled run: the Report, the code's own exception (re-raise it unchanged), why
    the run or the baseline was not recorded (show the report first), and its run id."""

    report: Report
    error: BaseException | None = None
    problem: str | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class Candidacy:
    """A candidate: its profile, the exception it raised (then there is no result), the
    experiment's result, and what the workbench failed at after the code ran (it was not
    recorded: show it beside the report, never instead of the code's own exception)."""

    report: Report
    error: BaseException | None
    result: ExperimentResult | None
    problem: str | None = None


def failure(exc: BaseException) -> str:
    """A workbench failure as one line: our own errors as they are, others with their type
    (they are defects: the line says so, so it can be reported)."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"an unexpected {type(exc).__name__} inside the workbench: {exc} (please report it)"


Confirm = Callable[["BaselineReview"], bool]


def predicted(whatif: WhatIfPass | None, change: str, function: str) -> dict[str, Any]:
    """What the what-if pass predicted for `change` on `function`, as recorded with the
    experiment (a note saying why, when it predicted nothing)."""
    base: dict[str, Any] = {"change": change, "function": function}
    if whatif is None:
        return {**base, "note": "no what-if pass ran on this baseline's code in this session"}
    row = whatif.lookup(change, function)
    if row is None:
        return {**base, "note": "the what-if pass found nothing to predict for it"}
    return {
        **base,
        "low": float(row["predicted_low"]),
        "point": float(row["predicted"]),
        "high": float(row["predicted_high"]),
        "evidence": str(row["evidence"]),
        "recommended": bool(row["recommended"]),
    }


class Session:
    """What one kernel (or one command) keeps between runs; see the module docstring."""

    def __init__(
        self,
        namespace: dict[str, Any] | None = None,
        *,
        compiler: Compiler | None = None,
        store: str | os.PathLike[str] | None = None,
        workflow: str = DEFAULT_WORKFLOW,
        clock: Clock = time.perf_counter,
        call_cost_s: float | None = None,
        on_round: RoundHook | None = None,
        stage: Stage | None = None,
        origin: str | None = None,
    ) -> None:
        self.namespace: dict[str, Any] = namespace if namespace is not None else {}
        self.compiler: Compiler = compiler or PythonCompiler()
        self.store_path = None if store is None else str(store)
        self.workflow_name = workflow
        self.clock = clock
        self._cost_model = None if call_cost_s is None else CostModel.flat(call_cost_s)
        self.on_round = on_round
        self.stage = stage
        self.origin = origin
        self.sources = SourceIndex()
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.confirmed: set[str] = set()  # digests of stored baseline code the user trusted
        # unique per Session, even for two made in one second by one process
        self.id = f"{os.getpid()}-{int(time.time())}-{secrets.token_hex(4)}"
        self.start_dir = Path.cwd()  # the store stays put when a cell calls os.chdir
        self._store: RunStore | None = None
        self._device: str | None = None
        self._router: Router | None = None
        self._whatif_costs: Costs | None = None
        self.last_whatif: tuple[str, WhatIfPass] | None = None
        self.modules = ModuleIndex()
        self._profiled: dict[str, Tables] = {}  # the last profile's tables, by source

    # --- what every run needs -------------------------------------------------------------

    def options(
        self,
        given: Mapping[str, Any],
        *,
        categories: Sequence[str] = (),
        use_pyproject: bool = True,
        label: str | None = None,
    ) -> Options:
        """Options for one run; the nearest pyproject.toml is read once, here, and kept on
        the options for the run store's location."""
        return Options.build(
            given,
            categories=categories,
            project=read_project(),
            use_pyproject=use_pyproject,
            label=label,
        )

    def cost_model(self) -> CostModel | None:
        """What cProfile costs per event on this interpreter, measured once per session
        (`call_cost_s` given: that flat cost); None while load keeps it from being measured
        (tried again at the next run)."""
        if self._cost_model is None:
            self._cost_model = measure_cost_model()
        return self._cost_model

    def _learn(self, passes: Passes) -> None:
        """After a plain run measured what profiling added (--overhead), later estimates in
        this session are scaled to it (the cost model's `scale`)."""
        overhead, predicted = passes.analysis.overhead, passes.analysis.predicted_s
        if overhead.method == "measured" and predicted and self._cost_model is not None:
            self._cost_model = scaled_to(self._cost_model, predicted, overhead.added_s)

    def store(self, path: str | None = None, project: Project | None = None) -> RunStore:
        """The run store at `path` (else the session's, else the default), kept open.

        Relative paths and the default are taken from the folder the session started in,
        so a cell that calls ``os.chdir`` does not move the store; `project` (the
        pyproject.toml read for this run) counts only while the working folder is that one.
        """
        if project is not None and Path.cwd() != self.start_dir:
            project = None
        target = resolve_store_path(path or self.store_path, start=self.start_dir, project=project)
        if self._store is None or self._store.path != target or self._store.closed:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._store = RunStore(target)
        return self._store

    def use_store(self, path: str) -> Path:
        """Record runs in `path` from now on; returns where that is."""
        previous = self.store_path
        self.store_path = path
        try:
            return self.store().path
        except WorkbenchError:
            self.store_path = previous
            raise

    def close(self) -> None:
        """Close the run store."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def whatif_costs(self) -> Costs:
        """This interpreter's costs for the what-if pass, measured once per session."""
        if self._whatif_costs is None:
            from workbench.profiling.whatif_costs import measure_costs

            self._whatif_costs = measure_costs(self.clock)
        return self._whatif_costs

    def router(self) -> Router:
        """The router that makes the backend recommendations, made once per session: on the
        user's calibrated machine profile where there is one (``$WORKBENCH_PROFILE``, or
        ``.workbench/machine-profile.json`` of the project), else on the seed profile."""
        if self._router is None:
            self._router = router_for()
        return self._router

    def environment(self) -> machine.Environment:
        """Git commit, versions and the device (described once per session)."""
        if self._device is None:
            self._device = machine.describe_device()
        return machine.current_environment(device=self._device)

    def workflow(self, store: RunStore) -> Workflow:
        """This session's workflow in `store`."""
        return Workflow(store, self.workflow_name)

    def findings(
        self,
        tables: Tables,
        store: RunStore | None,
        targets: Sequence[Site] = (),
    ) -> list[dict[str, Any]]:
        """Findings of a profile, as stored and shown; with the store, also the categories
        no experiment has changed (but not those of `targets`, the functions a change being
        tried targets: see :mod:`workbench.experiment.targets`)."""
        if tables.functions.empty:
            return []
        found = gpu_never_ran(
            tables.functions, tables.categories, namespace=self.namespace, index=self.sources
        )
        if store is not None:
            try:
                rows = store.experiments()
            except WorkbenchError:  # the store's own problem is said when the run is recorded
                return [f.to_dict() for f in found]
            worked = {c for row in rows for c in row.detail.get("changed_categories", [])}
            worked |= targeted_categories(tables.functions, targets)
            found += dominant_category(tables.categories, worked, experiments=len(rows))
        return [f.to_dict() for f in found]

    # --- runs -------------------------------------------------------------------------------

    def _steps(self, code: Code) -> tuple[list[Step], Cell | None]:
        if isinstance(code, str):
            cell = self.compiler.parse(code)
            return cell.steps(self.namespace), cell
        if callable(code):
            return [code], None
        raise ExperimentError(f"code must be source text or a callable, got {type(code).__name__}")

    def _run(
        self,
        code: Code,
        options: Options,
        notes: Sequence[str],
        store: RunStore | None,
        focus: Sequence[object] = (),
    ) -> tuple[Report, BaseException | None, list[dict[str, Any]]]:
        steps, cell = self._steps(code)
        source = cell.source if cell else None
        passes = run_passes(
            steps,
            options,
            source=source,
            filename=cell.filename if cell else None,
            namespace=self.namespace,
            clock=self.clock,
            cost_model=self.cost_model() if options.mode == "cprofile" else None,
            router=self.router(),
            modules=self.modules,
            previous=self._profiled.get(source) if source is not None else None,
            stage=self.stage,
            whatif_costs=self.whatif_costs() if options.whatif else None,
            whatif_focus=focus,
        )
        if source is not None and not passes.tables.functions.empty:
            self._profiled[source] = passes.tables  # --lines N reuses it to pick functions
        self._learn(passes)
        findings = self.findings(passes.tables, store, sites(focus))
        report = build_report(
            passes, options, source=cell.source if cell else None, findings=findings, notes=notes
        )
        if passes.whatif is not None and isinstance(code, str):
            self.last_whatif = (code, passes.whatif)
        return report, passes.error, findings

    def profile(
        self,
        code: Code,
        options: Options,
        *,
        record: bool = True,
        store: str | None = None,
        notes: Sequence[str] = (),
    ) -> Profiled:
        """Run `code` once under the profiler (and the passes the options ask for) in the
        session's namespace; with `record`, keep the run in the store."""
        return self._profile(code, options, record=record, store=store, notes=notes)

    def baseline(
        self,
        name: str,
        code: str,
        options: Options,
        *,
        checks: Sequence[str] = (),
        store: str | None = None,
        notes: Sequence[str] = (),
        keep_outputs: bool = False,
        focus: Sequence[object] = (),
    ) -> Profiled:
        """Profile `code` and record it as the baseline `name`: its code, profile, outputs
        (the result, or the `checks` variables) and the definitions it uses. Outputs past
        1 MiB are kept as fingerprints unless `keep_outputs`. With the what-if pass, the
        functions in `focus` are probed whatever their rank."""
        return self._profile(
            code,
            options,
            record=True,
            store=store,
            notes=notes,
            baseline=(name, list(checks)),
            keep_outputs=keep_outputs,
            focus=focus,
        )

    def _profile(
        self,
        code: Code,
        options: Options,
        *,
        record: bool,
        store: str | None,
        notes: Sequence[str],
        baseline: tuple[str, list[str]] | None = None,
        keep_outputs: bool = False,
        focus: Sequence[object] = (),
    ) -> Profiled:
        """The run, then its recording; whatever fails after the code ran (the outputs, the
        store) becomes `problem` beside the report and the code's own error."""
        opened: RunStore | None = None
        problem = None
        if record:
            try:
                opened = self.store(store, options.project)
            except WorkbenchError as exc:
                problem = f"the report is shown but was not recorded: {exc}"
        report, error, findings = self._run(code, options, notes, opened, focus)
        if opened is None:
            return Profiled(report, error, problem)
        text = code if isinstance(code, str) else None
        outputs: bytes | None = None
        if baseline is not None and report.complete:
            limit = None if keep_outputs else MAX_STORED_BYTES
            try:
                kept = collect(self.namespace, report.result, baseline[1])
                outputs = freeze(kept, "baseline", max_bytes=limit)
            except Exception as exc:  # the code ran: never raise over its report
                problem = f"baseline {baseline[0]!r} was not recorded: {failure(exc)}"
        as_baseline = baseline is not None and problem is None and report.complete
        try:
            with opened.write() as writer:
                run_id = writer.add_run(
                    report,
                    env=self.environment(),
                    kind="baseline" if as_baseline else "profile",
                    name=baseline[0] if as_baseline and baseline else None,
                    code=text,
                    session=self.id,
                    origin=self.origin,
                    findings=findings,
                )
                if as_baseline and baseline is not None and text is not None:
                    used = referenced_objects(text, self.namespace)
                    writer.set_baseline(
                        baseline[0],
                        run_id,
                        text,
                        baseline[1],
                        outputs,
                        {n: fingerprint(v) for n, v in used.items()},
                    )
                    self.snapshots[baseline[0]] = used
                self.workflow(opened).profiled(
                    writer,
                    label=report.label,
                    complete=report.complete,
                    error=report.error,
                    run_id=run_id,
                    findings=len(findings),
                )
        except Exception as exc:  # the code ran: never raise over its report
            return Profiled(
                report, error, f"the report is shown but was not recorded: {failure(exc)}"
            )
        if problem is None and baseline is not None and not report.complete:
            problem = f"baseline {baseline[0]!r} was not recorded: the cell raised {report.error}"
        return Profiled(report, error, problem, run_id)

    # --- candidates -----------------------------------------------------------------------

    def candidate(
        self,
        name: str,
        code: str,
        options: Options,
        *,
        against: str | None = None,
        checks: Sequence[str] = (),
        plan: Plan | None = None,
        tolerance: Tolerance | None = None,
        store: str | None = None,
        around: Around | None = None,
        trust_baseline: bool = False,
        confirm: Confirm | None = None,
        prediction: Mapping[str, Any] | None = None,
        targets: Sequence[Site] | None = None,
    ) -> Candidacy:
        """Profile the candidate `code` once in the session's namespace (recorded), then
        re-run the baseline's stored code and the candidate, interleaved, each in a fresh
        copy of the namespace, within the plan's budget; compare outputs and profiles,
        record the experiment and give a verdict.

        Bad input (no baseline, a blocked workflow, code that does not parse) raises a
        WorkbenchError before anything runs. So does a baseline this session did not
        record (another kernel's, a store from elsewhere), unless `trust_baseline` or
        `confirm` (shown the code, it answers True); the code's digest is then trusted for
        the rest of the session. With `around`, every run of the candidate (the profiled
        one included) happens inside that context. `prediction` (what the what-if pass
        predicted for this change) is recorded with the experiment. `targets` are the
        functions the change targets, ``(file, name)``; by default the functions `code`
        defines, by name. Their categories get no "dominates and is not being worked on".
        """
        # The experiment's modules are imported when a candidate first runs, not at %load_ext.
        from workbench.experiment.candidate import measure_against, record_experiment
        from workbench.experiment.measure import Plan
        from workbench.experiment.outputs import Tolerance

        plan = plan or Plan()
        tolerance = tolerance or Tolerance()
        opened = self.store(store, options.project)
        base = opened.baseline(against)
        self._review(base, opened, trust=trust_baseline, confirm=confirm)
        flow = self.workflow(opened)
        flow.optimizing(name)
        checks = list(checks) or list(base.checks)
        base_cell = self._parse(base.code)
        cand_cell = self._parse(code)
        started = self.clock()
        if options.label is None:
            options = replace(options, label=f"candidate {name}")
        options = replace(options, whatif=False)  # the prediction was made on the baseline
        model = self.cost_model() if options.mode == "cprofile" else None
        router = self.router()
        try:
            with (around or contextlib.nullcontext)():
                passes = run_passes(
                    cand_cell.steps(self.namespace),
                    options,
                    source=cand_cell.source,
                    filename=cand_cell.filename,
                    namespace=self.namespace,
                    clock=self.clock,
                    cost_model=model,
                    router=router,
                    modules=self.modules,
                    stage=self.stage,
                )
        except WorkbenchError as exc:  # e.g. another profiler is running: nothing ran
            flow.optimize_failed(str(exc))
            raise
        findings = self.findings(passes.tables, None)
        report = build_report(passes, options, source=cand_cell.source, findings=findings)
        try:
            with opened.write() as writer:
                run_id = writer.add_run(
                    report,
                    env=self.environment(),
                    kind="candidate",
                    name=name,
                    code=code,
                    session=self.id,
                    origin=self.origin,
                    findings=findings,
                )
                flow.optimized(writer, name=name, run_id=run_id, error=report.error)
        except Exception as exc:  # the code ran: its report and error come first
            problem = f"candidate {name!r} was not recorded, nor measured: {failure(exc)}"
            return Candidacy(report, passes.error, None, problem)
        if passes.error is not None:
            return Candidacy(report, passes.error, None)
        try:
            measured = measure_against(
                name,
                base,
                base_cell,
                cand_cell,
                namespace=self.namespace,
                snapshot=self.snapshots.get(base.name, {}),
                checks=checks,
                plan=plan,
                tolerance=tolerance,
                clock=self.clock,
                spent_s=self.clock() - started,
                on_round=self.on_round,
                around=around,
                ruleset=options.ruleset,
            )
        except BaseException as exc:
            with contextlib.suppress(Exception):  # the re-run's own error comes first
                flow.validation_failed(name=name, error=exc, run_id=run_id)
            raise
        try:
            if targets is None:
                targets = [(None, name) for name in defined_names(code)]
            result = record_experiment(
                opened, flow, measured, report, base, run_id, findings, prediction, targets
            )
        except Exception as exc:  # measured, but not recorded: show it and say so
            problem = f"experiment {name!r} was measured but not recorded: {failure(exc)}"
            return Candidacy(report, None, measured, problem)
        return Candidacy(report, None, result)

    def _review(
        self, base: StoredBaseline, store: RunStore, *, trust: bool, confirm: Confirm | None
    ) -> None:
        """Let a stored baseline's code be re-run only when this session recorded it or the
        user trusts it (see :func:`workbench.store.provenance.review_baseline`)."""
        from workbench.store.provenance import review_baseline

        review = review_baseline(base, session=self.id, store=store.path, confirmed=self.confirmed)
        if review is None:
            return
        if trust:
            self.confirmed.add(review.digest)
            return
        if confirm is None:
            raise ExperimentError(
                f"{review.text()}\nNothing was run. To re-run it, add --trust-baseline "
                "(Session.candidate(..., trust_baseline=True)), or record the baseline again "
                "in this kernel."
            )
        if not confirm(review):
            raise ExperimentError(
                f"baseline {base.name!r} was not confirmed: nothing was run. Record the "
                "baseline again in this kernel, or answer y to re-run the code shown."
            )
        self.confirmed.add(review.digest)

    def try_change(
        self,
        spec: str,
        code: str,
        options: Options,
        *,
        against: str | None = None,
        checks: Sequence[str] = (),
        plan: Plan | None = None,
        tolerance: Tolerance | None = None,
        store: str | None = None,
    ) -> Candidacy:
        """``--try CHANGE:FUNCTION``: measure `code` with the change applied in place
        against `code` as it is.

        The change is checked first (a Python function held by a module, the namespace
        or a class; a change that can be made mechanically): otherwise one
        ExperimentError and nothing runs. Without `against`, `code` is recorded as the
        baseline ``before CHANGE:FUNCTION``, profiled with the what-if pass over its top
        functions and this one (the prediction); the candidate is the same code run with
        the change patched in, every run in a fresh patch restored afterwards, also when
        the code raises or is interrupted. The verdict shows predicted against measured.
        """
        from workbench.experiment.changes import plan_change

        change = plan_change(spec, self.namespace)
        self._parse(code)
        whatif: WhatIfPass | None = None
        if against is None:
            against = f"before {change.spec}"
            label = options.label or f"before {change.spec}"
            base = self._profile(
                code,
                replace(options, whatif=True, label=label),
                record=True,
                store=store,
                notes=(),
                baseline=(against, list(checks)),
                focus=[change.target.stored],
            )
            if base.error is not None:
                return Candidacy(base.report, base.error, None)
            if base.problem is not None:
                raise ExperimentError(base.problem)
            whatif = base.report.whatif_pass
        elif self.last_whatif is not None:
            recorded = self.store(store, options.project).baseline(against)
            if self.last_whatif[0] == recorded.code:
                whatif = self.last_whatif[1]
        prediction = predicted(whatif, change.kind, change.target.qualname)
        return self.candidate(
            change.spec,
            code,
            replace(options, label=None),
            against=against,
            checks=checks,
            plan=plan,
            tolerance=tolerance,
            store=store,
            around=change.patch([self.namespace]),
            prediction=prediction,
            targets=sites([change.target.stored]),
        )

    def _parse(self, code: str) -> Cell:
        try:
            return self.compiler.parse(code)
        except SyntaxError as exc:
            raise ExperimentError(f"cannot parse the code: {exc}") from None

    # --- the stored runs, the workflow, the postmortem ------------------------------------

    def compare(self, a: int | str, b: int | str, *, store: str | None = None) -> CompareResult:
        """Diff stored runs `a` and `b` (ids, -1 for the latest, names or labels)."""
        from workbench.experiment.compare import compare_stored

        return compare_stored(self.store(store), a, b)

    def runs(self, *, store: str | None = None) -> pd.DataFrame:
        """Every stored run, oldest first."""
        return self.store(store).runs()

    def status(self, *, store: str | None = None) -> WorkflowStatus:
        """Where each phase of the session's workflow stands."""
        return self.workflow(self.store(store)).status()

    def resolve(self, phase: str, note: str, *, store: str | None = None) -> WorkflowStatus:
        """Mark a failed phase resolved, with a note saying how; returns the new status."""
        flow = self.workflow(self.store(store))
        flow.resolved(phase, note)
        return flow.status()

    def postmortem(
        self,
        path: str | os.PathLike[str],
        *,
        title: str = "Optimization postmortem",
        target_pct: float | None = None,
        redact: bool = False,
        store: str | None = None,
        origin: str | None = None,
    ) -> tuple[str, Path]:
        """Write the postmortem of the stored runs to `path` (with `origin`: that notebook's
        or script's runs only); returns its text and the store it was read from."""
        from workbench.report.postmortem import postmortem

        where = self.store(store).path
        text = postmortem(
            path,
            store=where,
            workflow=self.workflow_name,
            title=title,
            target_pct=target_pct,
            redact=redact,
            origin=origin,
        )
        return text, where
