"""The experiment workflow without IPython: measure two callables, read the workflow."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import fields, replace

import pandas as pd

from workbench.experiment.measure import Clock, Plan, Subject, measure_subjects
from workbench.experiment.outputs import RESULT, Outputs, Tolerance
from workbench.experiment.result import ExperimentResult
from workbench.experiment.workflow import DEFAULT_WORKFLOW, Workflow, WorkflowStatus
from workbench.store.db import ExperimentRow, RunStore


def callable_subject(label: str, fn: Callable[[], object], clock: Clock) -> Subject:
    """A Subject for a callable taking no arguments; its return value is its output."""

    def first() -> tuple[float, Outputs]:
        start = clock()
        value = fn()
        return clock() - start, {RESULT: value}

    def timed(number: int) -> float:
        start = clock()
        for _ in range(number):
            fn()
        return clock() - start

    return Subject(label, first, timed)


def run_experiment(
    baseline: Callable[[], object],
    candidate: Callable[[], object],
    *,
    name: str = "candidate",
    baseline_name: str = "baseline",
    budget_s: float = 30.0,
    confidence: float = 0.99,
    min_speedup: float = 1.0,
    rtol: float = 1e-7,
    atol: float = 0.0,
    store: str | os.PathLike[str] | None = None,
    record: bool = True,
    workflow: str = DEFAULT_WORKFLOW,
    clock: Clock = time.perf_counter,
) -> ExperimentResult:
    """Is `candidate` faster than `baseline`, and does it return the same?

    Both run once (their return values are compared, floats within `rtol`/`atol`), then
    in interleaved rounds within `budget_s`. The verdict is ``keep`` only when the
    outputs are equal and the whole `confidence` interval of the speedup lies above
    `min_speedup`; ``broken`` when the outputs differ; ``revert`` otherwise. With `record`,
    the experiment goes to the run store (and sets the workflow's Validate phase).
    """
    plan = Plan(budget_s=budget_s, confidence=confidence, min_speedup=min_speedup)
    tolerance = Tolerance(rtol, atol)
    measured = measure_subjects(
        callable_subject("baseline", baseline, clock),
        callable_subject("candidate", candidate, clock),
        plan=plan,
        tolerance=tolerance,
        clock=clock,
    )
    result = ExperimentResult.of(
        measured, name=name, baseline_name=baseline_name, tolerance=tolerance, checks=(), plan=plan
    )
    if not record:
        return result
    with RunStore(store) as opened, opened.write() as writer:
        result = replace(result, experiment_id=writer.add_experiment(result.to_row()))
        Workflow(opened, workflow).validated(writer, result)
    return result


def workflow(
    store: str | os.PathLike[str] | None = None, name: str = DEFAULT_WORKFLOW
) -> WorkflowStatus:
    """Where each phase of the workflow stands (Profile, Analyze, Optimize, Validate, Report)."""
    with RunStore(store) as opened:
        return Workflow(opened, name).status()


def experiments(store: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every stored experiment, oldest first: verdict, speedup, interval, medians, runs."""
    with RunStore(store) as opened:
        rows = opened.experiments()
    records = [{k: v for k, v in vars(row).items() if k != "detail"} for row in rows]
    columns = [f.name for f in fields(ExperimentRow) if f.name != "detail"]
    return pd.DataFrame(records, columns=columns)
