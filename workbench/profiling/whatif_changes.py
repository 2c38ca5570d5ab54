"""From what the probes and the capture measured to predicted whole-run speedups.

Each prediction is a saving in seconds with a low and a high end, turned into the whole
run's speedup ``T / (T - saving)``, where T, the plain run's time, is itself a range (the
what-if pass's wall time minus the probes' own time, with their measured spread). Every
term is a measurement of this run or of this interpreter (:mod:`whatif_costs`):

* **memoize**: the inclusive time of the calls whose arguments repeat an earlier call's
  (calls nested inside such a repeat would not happen, and are not counted twice), minus
  hashing and looking up every call's arguments as ``functools.lru_cache`` keys them (timed
  on the user's own arguments) and the cache's call layer;
* **batch**: the calls from one loop site beyond one per run of the loop, times the
  per-call fixed cost: between a Python call here and the intercept of time against
  input size fitted over the calls;
* **exceptions**: between raising and catching each exception (through its frames) and
  the whole time of the calls that raised (a check before the work);
* **inline**: a Python call here, times the calls of a thin wrapper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from workbench.profiling.whatif_costs import Costs
from workbench.profiling.whatif_probe import Log, ProbeCosts, ProbeState
from workbench.profiling.whatif_static import COMPREHENSIONS, Purity

BATCH_MIN_PER_RUN = 4.0  # calls per run of the loop for a batch to be worth predicting
# A change is recommended when even the low end of its range wins this much: less cannot be
# told from noise by a measurement within the usual budget.
WORTH = 1.01


@dataclass(frozen=True)
class RunTime:
    """The plain run's time the predictions divide by, and how it was found."""

    seconds: float
    low_s: float
    high_s: float
    how: str


@dataclass(frozen=True)
class Prediction:
    """One change to one function and what it would win for the whole run."""

    function: str
    change: str
    saving_low_s: float
    saving_s: float
    saving_high_s: float
    low: float
    point: float
    high: float
    evidence: str
    recommended: bool
    calls: int
    trial: str = ""


def speedup(total: float, saving: float) -> float:
    """The whole run's speedup when `saving` seconds of `total` go."""
    if total <= 0:
        return 1.0
    if saving >= total:
        return math.inf
    return total / (total - saving)


def predict(
    function: str,
    change: str,
    run: RunTime,
    savings: tuple[float, float, float],
    evidence: str,
    *,
    recommended: bool,
    calls: int,
    trial: str = "",
) -> Prediction:
    """A prediction from a saving's low, middle and high end."""
    low_s, mid_s, high_s = sorted(savings)
    return Prediction(
        function,
        change,
        low_s,
        mid_s,
        high_s,
        speedup(run.high_s, low_s),
        speedup(run.seconds, mid_s),
        speedup(run.low_s, high_s),
        evidence,
        recommended,
        calls,
        trial,
    )


def run_time(
    wall_s: float, state: ProbeState, calls: int, costs: Costs, sites_calls: int
) -> RunTime:
    """The plain run's time: the pass's wall time minus what the probes added, with the
    probe cost's measured spread."""
    plain_calls = calls - sites_calls
    own = state.own_s
    base, with_sites = costs.probe, costs.probe_sites
    fixed_mid = plain_calls * (base.fixed_s + base.bias_s) + sites_calls * (
        with_sites.fixed_s + with_sites.bias_s
    )
    fixed_low = plain_calls * (base.fixed_low + base.bias_low) + sites_calls * (
        with_sites.fixed_low + with_sites.bias_low
    )
    fixed_high = plain_calls * (base.fixed_high + base.bias_high) + sites_calls * (
        with_sites.fixed_high + with_sites.bias_high
    )
    inside = own - fixed_mid
    seconds = max(wall_s - own, 1e-9)
    return RunTime(
        seconds,
        max(wall_s - inside - fixed_high, 1e-9),
        max(wall_s - inside - fixed_low, 1e-9),
        f"{seconds:.3f} s: the what-if pass's {wall_s:.3f} s minus its probes' own time",
    )


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "0%"


def _ms(seconds: float) -> str:
    if abs(seconds) >= 1:
        return f"{seconds:.2f} s"
    if abs(seconds) >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    if abs(seconds) >= 1e-6:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e9:.0f} ns"


def memo_flags(log: Log, purity: Purity, rebound: Sequence[str], generator: bool) -> list[str]:
    """Why a cache would be wrong here (each reason measured or read from the source)."""
    flags: list[str] = []
    if generator:
        flags.append("it is a generator function: its result is an iterator, used up once")
    if log.unhashable:
        flags.append(
            f"{log.unhashable:,} of {log.calls:,} calls had unhashable arguments "
            f"({log.unhashable_type}): lru_cache would raise TypeError on them"
        )
    if log.changed:
        flags.append(
            f"{log.changed:,} of {log.compared:,} repeated calls returned a different result: "
            "it depends on state that changes"
        )
    if log.mutable_result:
        flags.append(
            f"it returns a {log.mutable_result}: a cache hands every caller the same object, "
            "and a caller that changes it changes the cached value"
        )
    flags += purity.reasons
    flags += [f"it reads the global {name!r}, which was rebound during the run" for name in rebound]
    return flags


def memoize(
    name: str,
    log: Log,
    run: RunTime,
    costs: Costs,
    flags: Sequence[str],
    probe: ProbeCosts,
) -> Prediction | None:
    """The saving of ``functools.lru_cache(maxsize=None)`` on this function; `probe` is
    the cost of the probes it was measured with (their spread widens the range)."""
    if not flags and log.hits == 0:
        return None
    looked_up = log.calls - log.shadowed
    if looked_up and log.unhashable >= looked_up:
        return not_applicable(name, "memoize", "NOT APPLICABLE: " + "; ".join(flags), log.calls)
    nested_mid = probe.fixed_s + probe.bias_s
    hit_mid = log.hit_s
    hit_low = (
        log.hit_s
        - log.hits * (probe.bias_high - probe.bias_s)
        - log.hit_nested * (probe.fixed_high + probe.bias_high - nested_mid)
    )
    hit_high = (
        log.hit_s
        + log.hits * (probe.bias_s - probe.bias_low)
        + log.hit_nested * (nested_mid - probe.fixed_low - probe.bias_low)
    )
    layer = costs.lru_layer_s
    paid = log.lookup_s
    savings = (
        hit_low - paid - looked_up * layer.high,
        hit_mid - paid - looked_up * layer.median,
        hit_high - paid - looked_up * layer.low,
    )
    evidence = (
        f"{log.hits:,} of {looked_up:,} calls ({_pct(log.hits, looked_up)}) repeat an earlier "
        f"call's arguments; those took {_ms(hit_mid)} (inclusive); hashing and looking up "
        f"the arguments {_ms(paid)} over all calls, the cache layer "
        f"{_ms(looked_up * layer.median)}"
    )
    if log.shadowed:
        evidence += f"; {log.shadowed:,} calls inside repeats would not happen at all"
    if log.compared and not log.changed:
        evidence += f"; the {log.compared:,} repeats compared returned equal results"
    if log.full:
        evidence += "; past 200,000 distinct arguments new ones were not tracked (an underestimate)"
    if flags:
        evidence += "; NOT RECOMMENDED: " + "; ".join(flags)
    evidence += f". Whole run {run.how}."
    prediction = predict(
        name,
        "memoize",
        run,
        savings,
        evidence,
        recommended=False,
        calls=log.calls,
        trial="" if flags else f"memoize:{name}",
    )
    return recommend(prediction, flagged=bool(flags))


def recommend(prediction: Prediction, *, flagged: bool = False) -> Prediction:
    """The prediction, recommended when nothing is flagged and its low end is worth it."""
    ok = not flagged and not math.isnan(prediction.low) and prediction.low >= WORTH
    return replace(prediction, recommended=ok)


def not_applicable(function: str, change: str, evidence: str, calls: int) -> Prediction:
    """A change that cannot be predicted here (the reason is the evidence)."""
    nan = math.nan
    return Prediction(function, change, nan, nan, nan, nan, nan, nan, evidence, False, calls)


FIT_MIN_R2 = 0.5  # the input size must explain at least half the spread of call times


def _fit_intercept(log: Log) -> float | None:
    """The intercept of per-call seconds against input size, where the size varies and
    explains the time (R² of the least-squares line at least FIT_MIN_R2)."""
    if log.n < 30:
        return None
    mean_x, mean_y = log.sx / log.n, log.sy / log.n
    var_x = log.sxx / log.n - mean_x * mean_x
    var_y = log.syy / log.n - mean_y * mean_y
    if var_x <= 1e-12 * max(mean_x * mean_x, 1.0) or var_y <= 0:
        return None
    cov = log.sxy / log.n - mean_x * mean_y
    if cov * cov / (var_x * var_y) < FIT_MIN_R2:
        return None
    intercept = mean_y - cov / var_x * mean_x
    return intercept if 0 < intercept <= mean_y else None


def batch(
    name: str,
    log: Log,
    run: RunTime,
    costs: Costs,
    arity: int,
    loops: dict[str, set[int]],
) -> Prediction | None:
    """One batched call per run of the loop site that calls this function most."""
    if not log.sites or log.calls == 0:
        return None
    best = max(log.site_calls().items(), key=lambda item: item[1].calls)
    (path, line, caller), site = best
    in_loop = caller in COMPREHENSIONS or line in loops.get(path, set())
    if not in_loop or site.runs == 0 or site.calls / site.runs < BATCH_MIN_PER_RUN:
        return None
    saved_calls = site.calls - site.runs
    call = costs.call(arity)
    intercept = _fit_intercept(log)
    fixed_high = max(intercept or 0.0, call.high)
    fixed_mid = max(intercept or 0.0, call.median) if intercept else call.median
    savings = (saved_calls * call.low, saved_calls * fixed_mid, saved_calls * fixed_high)
    where = f"{path.rsplit('/', 1)[-1]}:{line} ({caller})"
    fitted = (
        f"{_ms(intercept)} fixed cost per call (intercept of time against input size over "
        f"{log.n:,} calls)"
        if intercept
        else "no fixed cost could be fitted (the input size does not vary, or does not explain the time)"
    )
    evidence = (
        f"{site.calls:,} calls from {where} in {site.runs:,} runs of that loop "
        f"({site.calls / site.runs:.1f} per run), {_ms(log.seconds / log.calls)} per call; "
        f"a Python call costs {_ms(call.median)} here; {fitted}. One batched call per run "
        f"saves {saved_calls:,} calls' fixed cost; write the batched version by hand. "
        f"Whole run {run.how}."
    )
    prediction = predict(name, "batch", run, savings, evidence, recommended=False, calls=site.calls)
    return recommend(prediction)


def exceptions(name: str, log: Log, run: RunTime, costs: Costs) -> Prediction | None:
    """Exceptions that leave this function and are caught by its callers."""
    count = sum(log.raised.values())
    if count == 0:
        return None
    depth = max(log.raised_depth / count, 1.0)
    raise_low = costs.raise_s.low + (depth - 1) * costs.raise_frame_s.low
    raise_mid = costs.raise_s.median + (depth - 1) * costs.raise_frame_s.median
    low = count * raise_low
    high = max(log.raised_s, count * raise_mid)
    kinds = ", ".join(f"{kind} {n:,}x" for kind, n in log.raised.most_common(3))
    evidence = (
        f"exceptions left it in {count:,} of {log.calls:,} calls ({kinds}), through "
        f"{depth:.1f} frames on average, and were caught by its callers; those calls took "
        f"{_ms(log.raised_s)}; raising and catching one costs {_ms(raise_mid)} here. Low end: "
        "a check in place of the raise; high end: a check before the work. Whole run "
        f"{run.how}."
    )
    savings = (low, (low + high) / 2, high)
    prediction = predict(name, "exceptions", run, savings, evidence, recommended=False, calls=count)
    return recommend(prediction)


def inline(
    name: str,
    calls: int,
    own_per_call_s: float,
    arity: int,
    run: RunTime,
    costs: Costs,
    forwards: str | None,
) -> Prediction | None:
    """A thin wrapper whose own time is mostly the call itself."""
    call = costs.call(arity)
    if calls < 1 or call.median <= 0 or own_per_call_s > 2 * call.median:
        return None
    savings = (calls * call.low, calls * call.median, calls * call.high)
    what = f"it only passes its arguments on to {forwards}" if forwards else "a thin wrapper"
    evidence = (
        f"{what}: {calls:,} calls, {_ms(max(own_per_call_s, 0.0))} of its own time per call "
        f"(cProfile, its cost per call taken out), a Python call with {arity} argument(s) "
        f"costs {_ms(call.median)} here. Whole run {run.how}."
    )
    trial = f"inline:{name}" if forwards else ""
    prediction = predict(
        name, "inline", run, savings, evidence, recommended=False, calls=calls, trial=trial
    )
    return recommend(prediction)
