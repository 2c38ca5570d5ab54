"""What the what-if pass needs to know about this interpreter, measured once per session.

* the probe's own cost (:class:`~workbench.profiling.whatif_probe.ProbeCosts`), so the
  pass can take it out of every time it reads;
* a Python function call with N arguments (what inlining a call saves, and the least a
  batched call saves per element);
* raising and catching an exception through a few frames, beyond returning normally;
* the call layer ``functools.lru_cache`` adds on a hit, beyond its hashing and lookup
  (which the pass measures on the user's own arguments).

Each figure is the median of `repeats` timings, with their quartiles kept as its spread;
`noise` is how much identical timings of a few milliseconds differ on this machine now
(:func:`measure_noise`); it widens every predicted range. The figures come from loops timed here; no constant stands in for them.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from workbench.profiling.capture import Clock
from workbench.profiling.debias import CallCost, measure_call_split
from workbench.profiling.whatif_probe import Log, ProbeCosts, ProbeState, make_probe


@dataclass(frozen=True)
class Spread:
    """A measured per-call cost: the median of the repeats and their quartiles (the
    machine is shared: a single disturbed repeat should not set the spread)."""

    median: float
    low: float
    high: float

    @property
    def relative(self) -> float:
        """Half the interquartile range over the median: how much identical timings differ."""
        return (self.high - self.low) / (2 * self.median) if self.median > 0 else 0.0

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        clean = sorted(max(v, 0.0) for v in values)
        if len(clean) < 2:
            return cls(clean[0], clean[0], clean[0])
        low, median, high = statistics.quantiles(clean, n=4, method="inclusive")
        return cls(median, low, high)


@dataclass(frozen=True)
class Costs:
    """This interpreter's costs, as the predictions use them."""

    probe: ProbeCosts
    probe_sites: ProbeCosts
    clock_s: float
    calls: dict[int, Spread] = field(default_factory=dict)
    forwarders: dict[int, Spread] = field(default_factory=dict)
    raise_s: Spread = Spread(0.0, 0.0, 0.0)
    raise_frame_s: Spread = Spread(0.0, 0.0, 0.0)
    lru_layer_s: Spread = Spread(0.0, 0.0, 0.0)
    noise: float = 0.0
    split: CallCost | None = None  # cProfile's cost per call, callee and caller parts

    def call(self, arity: int) -> Spread:
        """A call with `arity` positional arguments (the largest measured above 4)."""
        return self.calls[min(max(arity, 0), max(self.calls))]

    def forwarder(self, arity: int) -> Spread:
        """What a wrapper passing `arity` arguments on to another function adds."""
        table = self.forwarders or self.calls
        return table[min(max(arity, 0), max(table))]


def _noop(*args: object) -> None:
    return None


def _arity_function(arity: int) -> Callable[..., object]:
    names = ", ".join(f"a{i}" for i in range(arity))
    code = f"def f({names}):\n    return None\n"
    scope: dict[str, object] = {}
    exec(compile(code, "<workbench-call-cost>", "exec"), scope)  # our own code, no input
    made = scope["f"]
    assert callable(made)
    return made


def _loop_source(body: str) -> str:
    return (
        "def loop(n, f, x, clock):\n"
        "    start = clock()\n"
        "    for i in range(n):\n"
        f"        {body}\n"
        "    return clock() - start\n"
    )


def _timed_loop(body: str) -> Callable[[int, object, object, Clock], float]:
    scope: dict[str, object] = {}
    exec(compile(_loop_source(body), "<workbench-call-cost>", "exec"), scope)
    loop = scope["loop"]
    assert callable(loop)
    return loop


def _call_body(arity: int) -> str:
    return f"f({', '.join('x' for _ in range(arity))})"


def clock_cost(clock: Clock, n: int = 2_000) -> float:
    """The time between two consecutive clock readings (the least interval it reports)."""
    gaps = []
    for _ in range(n):
        a = clock()
        b = clock()
        gaps.append(b - a)
    return statistics.median(gaps)


def measure_probe(
    clock: Clock, clock_s: float, *, sites: bool, n: int = 4_000, repeats: int = 7
) -> ProbeCosts:
    """The probe's own cost: a loop calling a no-op directly and through a probe, every
    argument seen twice in a row (half the calls repeat one: both paths are timed)."""
    empty = _timed_loop("i >> 1")
    direct = _timed_loop("f(i >> 1)")
    fixed_values, bias_values = [], []
    for _ in range(repeats):
        state = ProbeState(ProbeCosts(0.0, 0.0), clock_s=clock_s)
        log = Log("calibration")
        probe = make_probe(_noop, log, state, clock=clock, sites=sites, double=False)  # type: ignore[arg-type]
        t_empty = empty(n, _noop, 1, clock)
        t_direct = direct(n, _noop, 1, clock)
        t_probe = direct(n, probe, 1, clock)
        call = (t_direct - t_empty) / n
        added = (t_probe - t_direct) / n
        seen_call = log.seconds / n  # the call as the probe timed it, bias included
        inside = state.own_s / n  # what the probe's clocks saw of its own work
        bias = seen_call - call
        bias_values.append(bias)
        fixed_values.append(added - inside - bias)
    fixed, read = Spread.of(fixed_values), Spread.of(bias_values)
    return ProbeCosts(fixed.median, read.median, fixed.low, fixed.high, read.low, read.high)


def _raise_now(*args: object) -> None:
    raise KeyError(args)


def measure_probe_raise(
    clock: Clock,
    clock_s: float,
    costs: ProbeCosts,
    *,
    sites: bool,
    n: int = 2_000,
    repeats: int = 7,
) -> float:
    """What an exception passing through a probe adds beyond the probe's own cost: a loop
    catching a raising function's exception, called directly and through a probe."""
    direct = _timed_loop("try:\n            f(i)\n        except KeyError:\n            pass")
    values = []
    for _ in range(repeats):
        state = ProbeState(costs, clock_s=clock_s)
        log = Log("calibration")
        log.memo = False
        probe = make_probe(_raise_now, log, state, clock=clock, sites=sites, double=False)  # type: ignore[arg-type]
        t_direct = direct(n, _raise_now, 1, clock)
        t_probe = direct(n, probe, 1, clock)
        values.append((t_probe - t_direct - state.own_s) / n)
    return Spread.of(values).median


def measure_calls(clock: Clock, n: int = 10_000, repeats: int = 7) -> dict[int, Spread]:
    """A call of a Python function with 0 to 4 arguments, beyond the loop around it."""
    out = {}
    empty = _timed_loop("x")
    for arity in range(5):
        func = _arity_function(arity)
        direct = _timed_loop(_call_body(arity))
        values = [
            (direct(n, func, 1, clock) - empty(n, func, 1, clock)) / n for _ in range(repeats)
        ]
        out[arity] = Spread.of(values)
    return out


def _forwarder(arity: int, inner: Callable[..., object]) -> Callable[..., object]:
    names = ", ".join(f"a{i}" for i in range(arity))
    scope: dict[str, object] = {"inner": inner}
    code = f"def fw({names}):\n    return inner({names})\n"
    exec(compile(code, "<workbench-call-cost>", "exec"), scope)  # our own code, no input
    made = scope["fw"]
    assert callable(made)
    return made


def measure_forwarders(clock: Clock, n: int = 10_000, repeats: int = 7) -> dict[int, Spread]:
    """A thin wrapper around a function with 0 to 4 arguments, beyond calling it directly:
    what removing the wrapper saves per call (in a warm loop)."""
    out = {}
    for arity in range(5):
        inner = _arity_function(arity)
        wrapper = _forwarder(arity, inner)
        loop = _timed_loop(_call_body(arity))
        values = [
            (loop(n, wrapper, 1, clock) - loop(n, inner, 1, clock)) / n for _ in range(repeats)
        ]
        out[arity] = Spread.of(values)
    return out


def _raiser(depth: int) -> None:
    if depth <= 1:
        raise ValueError("what-if calibration")
    _raiser(depth - 1)


def _returner(depth: int) -> None:
    if depth <= 1:
        return None
    return _returner(depth - 1)


def measure_raise(clock: Clock, n: int = 2_000, repeats: int = 7) -> tuple[Spread, Spread]:
    """Raising and catching through 1 and through 4 frames, beyond returning normally:
    the cost at one frame, and what each further frame adds."""
    at_one, per_frame = [], []
    for _ in range(repeats):
        times = {}
        for depth in (1, 4):
            start = clock()
            for _ in range(n):
                with contextlib.suppress(ValueError):
                    _raiser(depth)
            raised = clock() - start
            start = clock()
            for _ in range(n):
                _returner(depth)
            times[depth] = (raised - (clock() - start)) / n
        at_one.append(times[1])
        per_frame.append((times[4] - times[1]) / 3)
    return Spread.of(at_one), Spread.of(per_frame)


def measure_lru_layer(clock: Clock, n: int = 10_000, repeats: int = 7) -> Spread:
    """A hit of ``functools.lru_cache`` on an int argument (whose key is the int itself),
    beyond the same dict lookup alone: the cache's call layer."""
    cached = functools.lru_cache(maxsize=None)(_noop)
    cached(1)
    table = {1: None}
    hit = _timed_loop("f(x)")
    get = hit
    values = [(hit(n, cached, 1, clock) - get(n, table.get, 1, clock)) / n for _ in range(repeats)]
    return Spread.of(values)


def _workload(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def measure_noise(clock: Clock, seconds: float = 0.005, repeats: int = 15) -> float:
    """How much identical timings of a few milliseconds of pure Python differ here now:
    the robust spread (1.4826 x the median absolute deviation, over the median) of
    `repeats` runs of one workload."""
    n = 1_000
    while True:  # size the workload to about `seconds`
        start = clock()
        _workload(n)
        took = clock() - start
        if took >= seconds / 4 or n > 10_000_000:
            break
        n *= 4
    n = max(int(n * seconds / max(took, 1e-9)), 1)
    times = []
    for _ in range(repeats):
        start = clock()
        _workload(n)
        times.append(clock() - start)
    middle = statistics.median(times)
    spread = 1.4826 * statistics.median(abs(t - middle) for t in times)
    return spread / middle if middle > 0 else 0.0


def measure_costs(clock: Clock = time.perf_counter) -> Costs:
    """Every cost the pass needs; about 0.1 s here."""
    clock_s = clock_cost(clock)
    raise_s, raise_frame_s = measure_raise(clock)
    calls = measure_calls(clock)
    probes = {}
    for sites in (False, True):
        probe = measure_probe(clock, clock_s, sites=sites)
        extra = measure_probe_raise(clock, clock_s, probe, sites=sites)
        probes[sites] = replace(probe, raise_s=extra)
    return Costs(
        probe=probes[False],
        probe_sites=probes[True],
        clock_s=clock_s,
        calls=calls,
        forwarders=measure_forwarders(clock),
        raise_s=raise_s,
        raise_frame_s=raise_frame_s,
        lru_layer_s=measure_lru_layer(clock),
        noise=measure_noise(clock),
        split=measure_call_split(clock=clock) if sys.getprofile() is None else None,
    )
