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
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from workbench.profiling.whatif_costs import Costs
from workbench.profiling.whatif_probe import Log
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
    noise: float = 0.0
    call_factor: float = 1.0


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
    """A prediction from a saving's low, middle and high end, each end widened by the
    machine's timing noise over a run this long (on the saving and, independently, on
    the whole run); the range is the lowest and highest speedup over those ends."""
    low_s, mid_s, high_s = sorted(savings)
    spread = run.noise * abs(mid_s)
    low_s, high_s = low_s - spread, high_s + spread
    totals = (run.low_s * (1 - run.noise), run.high_s * (1 + run.noise))
    corners = [speedup(t, s) for t in totals for s in (low_s, high_s)]
    return Prediction(
        function,
        change,
        low_s,
        mid_s,
        high_s,
        min(corners),
        speedup(run.seconds, mid_s),
        max(corners),
        evidence,
        recommended,
        calls,
        trial,
    )


MIN_DOUBLED = 30  # doubled calls needed to measure a probe's cost in situ
NOISE_SAMPLE_S = 0.005  # the length of the runs whose spread measures the noise


@dataclass(frozen=True)
class InSitu:
    """What the probes cost in this run, measured: per function, the difference between
    the calls made through a second probe and the others (`per_call`, with its standard
    error), where that is precise; else the probe's own accounting (its clocks and the
    calibration). `ratio` is the measured cost over the accounted one, for the probes
    nested inside a call (whose own time was taken out by the accounting)."""

    per_call: dict[str, float]
    se: dict[str, float]
    measured: dict[str, bool]
    ratio: float
    total_s: float
    total_se: float
    booked_s: float = 0.0  # the probes' own time as their accounting has it
    longest_s: float = 0.0  # the most time spent inside one probed function


def in_situ(logs: Mapping[str, Log]) -> InSitu:
    """The probes' cost in this run (see InSitu): per function, the median of the paired
    differences (a doubled call minus the single call just before it), robust to a
    preempted call; its standard error from the median absolute deviation."""
    per_call: dict[str, float] = {}
    se: dict[str, float] = {}
    measured: dict[str, bool] = {}
    total = variance = accounted = 0.0
    for name, log in logs.items():
        if not log.calls:
            continue
        booked = log.own_s / log.calls
        cost, error, ok = booked, 0.0, False
        if len(log.pairs) >= MIN_DOUBLED:
            middle = statistics.median(log.pairs)
            mad = statistics.median(abs(p - middle) for p in log.pairs)
            error = 1.2533 * 1.4826 * mad / math.sqrt(len(log.pairs))
            if middle > 0:
                cost, ok = max(middle, booked), True
        per_call[name], se[name], measured[name] = cost, error, ok
        paid = log.calls + log.doubled  # a doubled call paid two probes
        total += paid * cost
        variance += (paid * error) ** 2
        accounted += log.own_s
    ratio = total / accounted if accounted > 0 else 1.0
    longest = max((log.seconds for log in logs.values()), default=0.0)
    return InSitu(
        per_call, se, measured, max(ratio, 1.0), total, math.sqrt(variance), accounted, longest
    )


def excess(log: Log, probes: InSitu) -> float:
    """Per call: how much more a probe of this function cost in situ than its accounting."""
    if not log.calls:
        return 0.0
    return max(probes.per_call.get(log.name, 0.0) - log.own_s / log.calls, 0.0)


def corrected(log: Log, probes: InSitu) -> tuple[float, float]:
    """(all calls' seconds, repeated calls' seconds) with the probes' measured cost taken
    out: the nested probes' beyond their accounting, and the second probe of doubled calls."""
    cost = probes.per_call.get(log.name, 0.0)
    extra = probes.ratio - 1.0
    seconds = log.seconds - extra * log.inner_own - log.doubled * cost
    hits = log.hit_s - extra * log.hit_inner_own - log.doubled_hits * cost
    return seconds, hits


def run_time(
    wall_s: float,
    probes: InSitu,
    costs: Costs,
    capture: tuple[float, int, float] | None = None,
) -> RunTime:
    """The plain run's time: the pass's wall time minus what the probes cost (measured in
    situ), give or take twice that measurement's standard error.

    `capture` is (wall seconds, calls, cProfile's cost per call as measured on an empty
    function) of the cProfile run: how much more cProfile cost per call there than on the
    empty function is how much more a call costs in this code than in a warm loop (the
    `call_factor`, at least 1), which scales the high end of call-based savings.
    """
    # the probes cost at least what their accounting says (a calibration on a warm loop)
    # and about what the doubled calls measured in situ; the run took at least as long as
    # its longest probed function
    high = max(wall_s - probes.booked_s, 1e-9)
    low = max(wall_s - probes.total_s - 2 * probes.total_se, probes.longest_s, 1e-9)
    low = min(low, high)
    seconds = (low + high) / 2
    noise = costs.noise * math.sqrt(min(NOISE_SAMPLE_S / seconds, 1.0))
    factor = 1.0
    if capture is not None and capture[1] > 0 and capture[2] > 0:
        factor = max((capture[0] - seconds) / (capture[1] * capture[2]), 1.0)
    how = (
        f"{low:.3f} s to {high:.3f} s (the what-if pass's {wall_s:.3f} s less its probes' "
        "cost: as measured in situ, and as their own accounting has it); ranges widened by "
        f"{noise:.1%}, how much identical runs this long differ here now ({costs.noise:.0%} "
        f"for {NOISE_SAMPLE_S * 1e3:.0f} ms runs, averaging over the run)"
    )
    if factor > 1.0:
        how += f", and by calls costing up to {factor:.1f}x a warm loop's (cProfile's run)"
    return RunTime(
        seconds,
        low,
        high,
        how,
        noise,
        factor,
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
    if log.unhashable and log.stopped:
        flags.append(
            f"its arguments are unhashable ({log.unhashable_type}) in each of the first "
            f"{log.unhashable:,} calls: lru_cache would raise TypeError"
        )
    elif log.unhashable:
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
    probes: InSitu,
) -> Prediction | None:
    """The saving of ``functools.lru_cache(maxsize=None)`` on this function; `probes` is
    what the probes cost in this run (taken out of the repeated calls' time)."""
    if not flags and log.hits == 0:
        return None
    looked_up = log.calls - log.shadowed
    if log.unhashable and (log.stopped or log.unhashable >= looked_up):
        return not_applicable(name, "memoize", "NOT APPLICABLE: " + "; ".join(flags), log.calls)
    _, in_situ_hits = corrected(log, probes)  # the probes' cost as measured in situ
    booked_hits = log.hit_s  # ... as their accounting has it
    hit_low, hit_high = sorted((in_situ_hits, booked_hits))
    hit_mid = (hit_low + hit_high) / 2
    # where a probe costs more in situ than its accounting says, part of the excess may sit
    # inside each call's reading: the low end takes it out of every repeat
    hit_low -= log.hits * excess(log, probes)
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
    if log.reordered:
        evidence += (
            f"; CAUTION: in {log.reordered:,} of them an equal set iterated in another order, "
            "so code that takes 'the first' element of it would get another one from a cache"
        )
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


FIT_MIN_T = 3.0  # the slope must be this many standard errors above zero
FIT_MIN_SAMPLES = 5  # calls a size bucket needs to count in the fit


def fit_intercept(log: Log) -> tuple[float, float] | None:
    """The intercept of per-call seconds against input size, and its standard error.

    Each input-size bucket counts with the median of its calls' times (one preempted call
    must not move the line), weighted by its calls. Only where the size clearly drives the
    time (the slope at least FIT_MIN_T standard errors above zero; otherwise the size says
    nothing, and neither does the intercept) and the intercept lies between zero and the
    smallest bucket's median."""
    points = [
        (total / count, statistics.median(times), count)
        for count, total, times in log.by_size.values()
        if len(times) >= FIT_MIN_SAMPLES
    ]
    if len(points) < 3:
        return None
    weight = sum(w for _, _, w in points)
    mean_x = sum(x * w for x, _, w in points) / weight
    mean_y = sum(y * w for _, y, w in points) / weight
    var_x = sum(w * (x - mean_x) ** 2 for x, _, w in points) / weight
    if var_x <= 0:
        return None
    slope = sum(w * (x - mean_x) * (y - mean_y) for x, y, w in points) / (weight * var_x)
    intercept = mean_y - slope * mean_x
    dof = len(points) - 2
    residual = sum(w * (y - intercept - slope * x) ** 2 for x, y, w in points) / weight
    residual *= len(points) / dof if dof > 0 else math.inf
    slope_se = math.sqrt(residual / (len(points) * var_x))
    if slope <= 0 or (slope_se > 0 and slope / slope_se < FIT_MIN_T):
        return None
    intercept_se = math.sqrt(residual * (1.0 / len(points) + mean_x**2 / (len(points) * var_x)))
    smallest = min(points)[1]
    if not 0 < intercept <= smallest:
        return None
    return intercept, intercept_se


def batch(
    name: str,
    log: Log,
    run: RunTime,
    costs: Costs,
    arity: int,
    loops: dict[str, set[int]],
    probes: InSitu,
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
    fitted = fit_intercept(log)
    top = call.high * run.call_factor
    if fitted is None:
        savings = (saved_calls * call.low, saved_calls * call.median, saved_calls * top)
    else:
        intercept, se = fitted
        savings = (
            saved_calls * max(intercept - 2 * se - excess(log, probes), call.low),
            saved_calls * max(intercept, call.median),
            saved_calls * max(intercept + 2 * se, top),
        )
    where = f"{path.rsplit('/', 1)[-1]}:{line} ({caller})"
    fit_text = (
        f"{_ms(fitted[0])} fixed cost per call (intercept of the median time against input "
        f"size over {len(log.by_size)} sizes, standard error {_ms(fitted[1])})"
        if fitted
        else "no fixed cost could be fitted (the input size does not vary, or does not drive "
        "the time), so only the call itself counts"
    )
    evidence = (
        f"{site.calls:,} calls from {where} in {site.runs:,} runs of that loop "
        f"({site.calls / site.runs:.1f} per run), {_ms(corrected(log, probes)[0] / log.calls)} per call; "
        f"a Python call costs {_ms(call.median)} here; {fit_text}. One batched call per run "
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
    own: tuple[float, float],
    arity: int,
    run: RunTime,
    costs: Costs,
    forwards: str | None,
    ceiling_s: float | None = None,
) -> Prediction | None:
    """A thin wrapper removed: its own time goes. `own` is its own time per call from
    the capture with cProfile's cost taken out, as fitted to this run (low) and as
    measured on empty calls (high); a warm loop's wrapper cost is the least it saves.
    `ceiling_s` is the most it can save: the wrapper's inclusive time, scaled to the plain
    run (removing it cannot save more than everything under it)."""
    call = costs.forwarder(arity)
    own_low, own_high = sorted(own)
    if calls < 1 or call.median <= 0:
        return None
    low = max(min(own_low, own_high), call.low)
    high = max(own_high, call.high)
    savings = (calls * low, calls * (low + high) / 2, calls * high)
    if ceiling_s is not None:
        savings = (
            min(savings[0], ceiling_s),
            min(savings[1], ceiling_s),
            min(savings[2], ceiling_s),
        )
    what = f"it only passes its arguments on to {forwards}" if forwards else "a thin wrapper"
    evidence = (
        f"{what}: {calls:,} calls, {_ms(max(own_low, 0.0))} to {_ms(max(own_high, 0.0))} of its "
        "own time per call (cProfile's run, cProfile's own cost taken out as fitted to this "
        f"run and as measured on empty calls); a wrapper passing {arity} argument(s) on costs "
        f"{_ms(call.median)} here in a warm loop. Whole run {run.how}."
    )
    trial = f"inline:{name}" if forwards else ""
    prediction = predict(
        name, "inline", run, savings, evidence, recommended=False, calls=calls, trial=trial
    )
    return recommend(prediction)
