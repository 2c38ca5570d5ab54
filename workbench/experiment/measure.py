"""Baseline versus candidate: interleaved repeats, a bootstrap interval, a verdict.

Both versions run once first (their outputs are compared, and the time of that run plans
the rest), then in rounds within a time budget. Each round runs both, alternating which
goes first (ABBA), so drift in the machine's speed and warm-cache effects fall on both
equally. The speedup is the Hodges-Lehmann estimate of the per-round ratios baseline
time / candidate time (a paired statistic: both runs of a round share the machine's
state), with a percentile bootstrap confidence interval and an exact signed-rank interval
(see :mod:`workbench.experiment.speedup`).

The verdict is ``keep`` only when the candidate's outputs equal the baseline's and both
intervals lie wholly above 1 (above ``min_speedup``); ``broken`` when the outputs differ;
``revert`` otherwise: slower, or not significantly faster (overhead without benefit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from workbench.errors import ExperimentError
from workbench.experiment.outputs import Outputs, Tolerance, first_difference, freeze, thaw
from workbench.experiment.speedup import Speedup, speedup_interval

Verdict = Literal["keep", "revert", "broken"]
Correctness = Literal["equal", "differ", "not compared"]
Clock = Callable[[], float]
RoundHook = Callable[[int, int], None]  # (rounds done, rounds planned)


MAX_BUDGET_S = 24 * 3600.0  # a day: a longer budget is a typo


@dataclass(frozen=True)
class Plan:
    """How long and how often to measure; validated when built."""

    budget_s: float = 30.0
    confidence: float = 0.99
    min_rounds: int = 8  # the fewest for which the 99% signed-rank interval is finite
    max_rounds: int = 200
    min_sample_s: float = 0.02
    min_speedup: float = 1.0
    resamples: int = 9999
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.budget_s <= MAX_BUDGET_S:  # NaN and infinity too
            raise ExperimentError(
                f"the budget must be > 0 seconds and at most {MAX_BUDGET_S:g} (a day), "
                f"got {self.budget_s}"
            )
        if not 0.5 <= self.confidence < 1:
            raise ExperimentError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if not 3 <= self.min_rounds <= self.max_rounds:
            raise ExperimentError(
                f"need 3 <= min_rounds <= max_rounds, got {self.min_rounds} and {self.max_rounds}"
            )
        if not self.min_speedup > 0:
            raise ExperimentError(f"min_speedup must be > 0, got {self.min_speedup}")


@dataclass
class Subject:
    """One version of the code: `first` runs it once and returns (seconds, outputs);
    `timed(number)` runs it `number` times and returns the seconds that took."""

    label: str
    first: Callable[[], tuple[float, Outputs]]
    timed: Callable[[int], float]


@dataclass
class Timings:
    """Per-run seconds of each round: a sample of `number` runs, divided by `number`.

    Each version has its own `number`, chosen so that one sample lasts at least
    `Plan.min_sample_s`; ratios of per-run times stay comparable.
    """

    baseline: list[float] = field(default_factory=list)
    candidate: list[float] = field(default_factory=list)
    number_b: int = 1
    number_c: int = 1
    elapsed_s: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)


def plan_number(first_s: float, plan: Plan) -> int:
    """Runs per sample, so that one sample lasts `min_sample_s` (1 for slow code)."""
    if first_s <= 0:
        return 1
    return max(1, min(1_000_000, math.ceil(plan.min_sample_s / first_s)))


def plan_rounds(round_s: float, remaining_s: float, plan: Plan) -> int:
    """Rounds that fit in the remaining budget, within [min_rounds, max_rounds]."""
    fit = int(remaining_s // round_s) if round_s > 0 else plan.max_rounds
    return max(plan.min_rounds, min(plan.max_rounds, fit))


def measure(
    baseline: Subject,
    candidate: Subject,
    first_b: float,
    first_c: float,
    plan: Plan,
    *,
    clock: Clock = time.perf_counter,
    spent_s: float = 0.0,
    on_round: RoundHook | None = None,
) -> Timings:
    """Interleaved rounds (ABBA). Stops at the planned rounds, at 1.5x the budget once
    `min_rounds` are done, or at KeyboardInterrupt (kept as `interrupted`).
    `on_round(done, planned)` is called after each round."""
    started = clock()
    timings = Timings(number_b=plan_number(first_b, plan), number_c=plan_number(first_c, plan))
    round_s = timings.number_b * first_b + timings.number_c * first_c
    remaining = plan.budget_s - spent_s
    rounds = plan_rounds(round_s, remaining, plan)
    if rounds * round_s > remaining and rounds == plan.min_rounds:
        timings.notes.append(
            f"The budget ({plan.budget_s:g} s) allowed fewer than {plan.min_rounds} rounds; "
            f"{plan.min_rounds} were run, the minimum for a verdict."
        )
    try:
        for index in range(rounds):
            if index % 2 == 0:
                time_b = baseline.timed(timings.number_b)
                time_c = candidate.timed(timings.number_c)
            else:
                time_c = candidate.timed(timings.number_c)
                time_b = baseline.timed(timings.number_b)
            timings.baseline.append(time_b / timings.number_b)
            timings.candidate.append(time_c / timings.number_c)
            if on_round is not None:
                on_round(index + 1, rounds)
            used = spent_s + clock() - started
            if used > 1.5 * plan.budget_s and plan.min_rounds <= index + 1 < rounds:
                timings.notes.append(
                    f"Stopped after {index + 1} of {rounds} planned rounds: the runs took longer "
                    f"than planned ({used:.1f} s of a {plan.budget_s:g} s budget)."
                )
                break
    except KeyboardInterrupt:
        timings.interrupted = True
        timings.notes.append(f"Interrupted after {len(timings.candidate)} rounds.")
    timings.elapsed_s = spent_s + clock() - started
    return timings


def decide(
    speed: Speedup, correctness: Correctness, difference: str | None, plan: Plan
) -> tuple[Verdict, str]:
    """The verdict and its reason in words."""
    interval = speed.describe()
    if correctness == "differ":
        return "broken", f"outputs differ from the baseline's: {difference}"
    if speed.rounds < plan.min_rounds:
        return "revert", f"too few rounds to tell ({interval}): not shown to be faster"
    if speed.floor > plan.min_speedup:
        return "keep", f"faster: {interval}"
    if speed.ceiling < 1.0:
        return "revert", f"slower: {interval}"
    floor = "" if plan.min_speedup == 1.0 else f" by more than {plan.min_speedup:g}x"
    return (
        "revert",
        f"not significantly faster{floor} ({interval}): overhead without benefit",
    )


@dataclass(frozen=True)
class Measurement:
    """What the interleaved rounds measured and decided, before it is recorded."""

    verdict: Verdict
    reason: str
    speedup: Speedup
    timings: Timings
    correctness: Correctness
    difference: str | None
    notes: tuple[str, ...]


def measure_subjects(
    baseline: Subject,
    candidate: Subject,
    *,
    plan: Plan,
    tolerance: Tolerance,
    reference: Outputs | None = None,
    clock: Clock = time.perf_counter,
    spent_s: float = 0.0,
    on_round: RoundHook | None = None,
) -> Measurement:
    """First runs (outputs compared), then interleaved rounds, statistics and the verdict.

    `reference` is the baseline's outputs as recorded earlier; when the baseline's fresh
    outputs differ from them, a note says so. `spent_s` is budget already used;
    `on_round(done, planned)` is called after each round (for progress bars).
    """
    started = clock()
    first_b, out_b = baseline.first()
    first_c, out_c = candidate.first()
    frozen_b = thaw(freeze(out_b, "baseline"))
    frozen_c = thaw(freeze(out_c, "candidate"))
    difference = first_difference(frozen_b, frozen_c, tolerance)
    notes: list[str] = []
    if reference is not None and first_difference(reference, frozen_b, tolerance) is not None:
        notes.append(
            "The baseline's outputs now differ from those recorded with it: its inputs or the "
            "code it calls changed since; the candidate was checked against the fresh run."
        )
    trivial = all(value is None for value in frozen_b.values())
    correctness: Correctness = "differ" if difference else ("not compared" if trivial else "equal")
    if trivial:
        notes.append(
            "Correctness not checked: the baseline's result is None (the cell ends with a "
            "statement); name the variables to compare with --check VAR."
        )
    timings = measure(
        baseline,
        candidate,
        first_b,
        first_c,
        plan,
        clock=clock,
        spent_s=spent_s + clock() - started,
        on_round=on_round,
    )
    speed = speedup_interval(
        timings.baseline,
        timings.candidate,
        confidence=plan.confidence,
        resamples=plan.resamples,
        seed=plan.seed,
    )
    verdict, reason = decide(speed, correctness, difference, plan)
    return Measurement(
        verdict, reason, speed, timings, correctness, difference, (*notes, *timings.notes)
    )
