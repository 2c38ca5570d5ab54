"""The finished result of an experiment: what was measured, decided and recorded.

An :class:`ExperimentResult` is made once, after the experiment was recorded (or not),
with everything it refers to: the measurement, the runs, the comparison of their
profiles and the findings. It renders as a verdict in a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.experiment.measure import Correctness, Measurement, Plan, Timings, Verdict
from workbench.experiment.outputs import Tolerance
from workbench.experiment.speedup import Speedup
from workbench.report import sections
from workbench.report.bundle import bundle
from workbench.report.tables import Block, Column, Document, Paragraph, Table

if TYPE_CHECKING:
    from workbench.experiment.compare import CompareResult
    from workbench.profiling.report import Report
    from workbench.profiling.round_shares import CategoryChange
    from workbench.store.db import ExperimentRow


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """What an experiment measured and decided. Renders as a verdict in a notebook."""

    name: str
    baseline_name: str
    verdict: Verdict
    reason: str
    speedup: Speedup
    timings: Timings
    correctness: Correctness
    difference: str | None
    tolerance: Tolerance
    checks: tuple[str, ...]
    plan: Plan
    notes: tuple[str, ...] = ()
    baseline_run: int | None = None
    candidate_run: int | None = None
    experiment_id: int | None = None
    candidate_report: Report | None = field(default=None, repr=False)
    comparison: CompareResult | None = field(default=None, repr=False)
    # Per category, the change over the interleaved rounds (each round sampled), with its
    # interval: what backs "faster" / "slower" for a category.
    category_changes: Mapping[str, CategoryChange] = field(default_factory=dict, repr=False)
    findings: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    prediction: Mapping[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(
        cls,
        measured: Measurement,
        *,
        name: str,
        baseline_name: str,
        tolerance: Tolerance,
        checks: Sequence[str],
        plan: Plan,
        notes: Sequence[str] = (),
        **recorded: Any,
    ) -> ExperimentResult:
        """The result of a measurement; `notes` go before the measurement's own, and
        `recorded` holds the runs, the experiment id, the comparison and the findings."""
        return cls(
            name=name,
            baseline_name=baseline_name,
            verdict=measured.verdict,
            reason=measured.reason,
            speedup=measured.speedup,
            timings=measured.timings,
            correctness=measured.correctness,
            difference=measured.difference,
            tolerance=tolerance,
            checks=tuple(checks),
            plan=plan,
            notes=(*notes, *measured.notes),
            **recorded,
        )

    @property
    def baseline_median(self) -> float:
        """Median seconds of one baseline run."""
        return float(np.median(self.timings.baseline))

    @property
    def candidate_median(self) -> float:
        """Median seconds of one candidate run."""
        return float(np.median(self.timings.candidate))

    def headline(self) -> str:
        """One line: the verdict, the names and why."""
        return f"{self.verdict.upper()}: candidate {self.name!r} vs baseline {self.baseline_name!r}: {self.reason}"

    def to_row(self, detail: Mapping[str, Any] | None = None) -> ExperimentRow:
        """The store's row for this experiment; `detail` adds to its detail column."""
        from workbench.store.db import ExperimentRow

        return ExperimentRow(
            name=self.name,
            baseline=self.baseline_name,
            baseline_run=self.baseline_run,
            candidate_run=self.candidate_run,
            verdict=self.verdict,
            reason=self.reason,
            speedup=self.speedup.point,
            ci_low=self.speedup.low,
            ci_high=None if math.isinf(self.speedup.high) else self.speedup.high,
            confidence=self.speedup.confidence,
            baseline_median=self.baseline_median,
            candidate_median=self.candidate_median,
            rounds=self.speedup.rounds,
            correctness=self.correctness,
            detail={
                "baseline_times": self.timings.baseline,
                "candidate_times": self.timings.candidate,
                "exact_low": self.speedup.exact_low,
                "exact_high": None
                if math.isinf(self.speedup.exact_high)
                else self.speedup.exact_high,
                "number_b": self.timings.number_b,
                "number_c": self.timings.number_c,
                "elapsed_s": self.timings.elapsed_s,
                "interrupted": self.timings.interrupted,
                "budget_s": self.plan.budget_s,
                "difference": self.difference,
                "tolerance": self.tolerance.describe(),
                "checks": list(self.checks),
                "notes": list(self.notes),
                "findings": [dict(f) for f in self.findings],
                **({"prediction": dict(self.prediction)} if self.prediction else {}),
                **(detail or {}),
            },
        )

    def correctness_line(self) -> str:
        """What was compared and how it came out."""
        what = ", ".join(self.checks) if self.checks else "the cell's result"
        if self.correctness == "equal":
            return f"Correctness: outputs equal ({what} compared, {self.tolerance.describe()})."
        if self.correctness == "differ":
            return f"Correctness: OUTPUTS DIFFER ({what} compared): {self.difference}."
        return "Correctness: not checked (nothing to compare)."

    def prediction_line(self) -> str | None:
        """Predicted against measured, when the change was predicted (``--try``)."""
        if not self.prediction:
            return None
        return prediction_text(self.prediction, self.speedup)

    def summary(self) -> Table:
        """Medians, fastest runs, rounds and runs per sample of both versions."""
        t = self.timings
        rows: list[tuple[str, object, object]] = [
            ("median per run (s)", self.baseline_median, self.candidate_median),
            ("fastest run (s)", min(t.baseline), min(t.candidate)),
            ("timed rounds", len(t.baseline), len(t.candidate)),
            ("runs per sample", t.number_b, t.number_c),
        ]
        if self.baseline_run is not None or self.candidate_run is not None:
            rows.append(("profiled run", f"#{self.baseline_run}", f"#{self.candidate_run}"))
        columns = (
            Column(""),
            Column(f"baseline '{self.baseline_name}'", "seconds", digits=4),
            Column(f"candidate '{self.name}'", "seconds", digits=4),
        )
        # counts are written out here: the columns' kind is seconds
        cells = tuple(tuple(str(v) if isinstance(v, int) else v for v in row) for row in rows)
        return Table("", columns, cells)

    @cached_property
    def document(self) -> Document:
        """The verdict, the summary, correctness, notes and the comparison by category."""
        blocks: list[Block] = [
            Paragraph(self.reason[0].upper() + self.reason[1:] + "."),
            self.summary(),
            Paragraph(self.correctness_line()),
        ]
        predicted = self.prediction_line()
        if predicted is not None:
            blocks.insert(1, Paragraph(predicted))
        blocks += [Paragraph(note, "note") for note in self.notes]
        blocks += [
            Paragraph(f"Finding: {f['title']}. {f['detail']}", "note") for f in self.findings
        ]
        if self.comparison is not None:
            a, b = self.comparison.a.id, self.comparison.b.id
            table = sections.compared_categories(self.comparison.categories, 10)
            title = f"By category (profiled runs: A = #{a}, B = #{b})"
            blocks.append(Table(title, table.columns, table.rows))
        title = (
            f"{self.verdict.upper()}: candidate '{self.name}' vs baseline '{self.baseline_name}'"
        )
        return Document(title, tuple(blocks), level=3, tone=self.verdict)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return bundle(self.document)

    def to_markdown(self) -> str:
        """The verdict as markdown."""
        from workbench.report import markdown

        return markdown.render(self.document)

    def __repr__(self) -> str:
        return f"<ExperimentResult {self.headline()}>"


def inside(prediction: Mapping[str, Any], measured: float) -> bool | None:
    """Whether a measured speedup lies in the predicted range (None: no range)."""
    low, high = prediction.get("low"), prediction.get("high")
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return None
    return bool(low <= measured <= high)


def prediction_text(prediction: Mapping[str, Any], speedup: Speedup) -> str:
    """'Predicted 1.20x to 1.25x (...), measured 1.23x (99% CI ...): inside the range.'"""
    change = f"{prediction.get('change')} on {prediction.get('function')}"
    measured = (
        f"measured {speedup.point:.3f}x ({speedup.confidence:.0%} CI {speedup.low:.3f}x to "
        f"{speedup.high:.3f}x)"
    )
    verdict = inside(prediction, speedup.point)
    if verdict is None:
        why = prediction.get("note") or "the what-if pass made no prediction for it"
        return f"Predicted: nothing for {change} ({why}); {measured}."
    where = "inside" if verdict else "OUTSIDE"
    return (
        f"Predicted {prediction['low']:.3f}x to {prediction['high']:.3f}x for {change} "
        f"(what-if pass: {prediction.get('evidence', '')}); {measured}: {where} the predicted "
        "range."
    )
