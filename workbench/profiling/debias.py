"""Make cProfile statistics comparable with sampled ones.

Two differences stand between a cProfile breakdown and the stack sampler's:

* cProfile's own cost. Its hook runs on every call and return, and the time it takes
  is charged to the functions it times: partly to the called function's self time,
  mostly (about 70% for a Python call on CPython 3.11, measured) to the *calling*
  function's. `measure_call_split` measures both parts on this interpreter, for Python
  and for C calls; `CallCost.scaled_to` fits them to what profiling added to a real
  run; `remove_call_cost` takes them out.
* C functions. The stack sampler sees only Python frames, so a C function's time is
  self time of the Python function that called it. `fold_native` does the same to
  cProfile statistics.

The functions on statistics are pure: they return new statistics and leave their input
alone.
"""

from __future__ import annotations

import cProfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from workbench.errors import ProfileError
from workbench.profiling.capture import Clock, EdgeStats, FuncKey, FuncStats, check_no_profiler

NATIVE_FILE = "~"  # cProfile's file name for a C function


@dataclass(frozen=True)
class CallCost:
    """Seconds cProfile adds per call, split by where they are charged.

    `callee_s`: to the called function's self time, once per call of it;
    `caller_s`: to the calling function's self time, once per call it makes.
    The ``native_`` pair is the same for calls of C functions.
    """

    callee_s: float
    caller_s: float
    native_callee_s: float
    native_caller_s: float

    @classmethod
    def callee_only(cls, per_call_s: float) -> CallCost:
        """The whole per-call cost charged to the called function (the simple model)."""
        return cls(per_call_s, 0.0, per_call_s, 0.0)

    def total(self, stats: Mapping[FuncKey, FuncStats]) -> float:
        """Seconds this cost comes to over the calls in `stats`."""
        return float(
            sum(
                ncalls * (self.callee(key) + self.caller(key))
                for key, (_pc, ncalls, _tt, _ct, _callers) in stats.items()
            )
        )

    def scaled_to(self, stats: Mapping[FuncKey, FuncStats], added_s: float) -> CallCost:
        """This split, scaled so that the calls in `stats` come to `added_s`.

        `added_s` is what profiling added to the run, measured (profiled wall time less
        a plain run's). The per-call cost of a real workload is often higher than on
        the empty calls `measure_call_split` times (more distinct functions, colder
        caches); the split between callee and caller is kept.
        """
        total = self.total(stats)
        if total <= 0 or added_s <= 0:
            return self
        factor = added_s / total
        return CallCost(
            self.callee_s * factor,
            self.caller_s * factor,
            self.native_callee_s * factor,
            self.native_caller_s * factor,
        )

    def callee(self, key: FuncKey) -> float:
        """Added to `key`'s self time per call of it."""
        return self.native_callee_s if is_native(key) else self.callee_s

    def caller(self, callee: FuncKey) -> float:
        """Added to a caller's self time per call it makes of `callee`."""
        return self.native_caller_s if is_native(callee) else self.caller_s


def is_native(key: FuncKey) -> bool:
    """True for a C function as cProfile names it (file ``~``)."""
    return key[0] == NATIVE_FILE


def _noop() -> None:
    return None


def _python_calls(calls: int) -> None:
    fn = _noop
    for _ in range(calls):
        fn()


def _native_calls(calls: int) -> None:
    fn = abs
    for _ in range(calls):
        fn(0)


def _split(
    run: Callable[[int], None],
    callee: str,
    calls: int,
    repeats: int,
    clock: Clock,
    timer: Clock | None,
) -> tuple[float, float]:
    """Best of `repeats`: (callee part, caller part) of the added time per call."""
    best = (float("inf"), 0.0, 0.0)
    for _ in range(repeats):
        start = clock()
        run(calls)
        plain = clock() - start
        profiler = cProfile.Profile(timer) if timer is not None else cProfile.Profile()
        start = clock()
        profiler.enable()
        try:
            run(calls)
        finally:
            profiler.disable()
        added = max(clock() - start - plain, 0.0) / calls
        profiler.create_stats()
        stats: dict[FuncKey, FuncStats] = profiler.stats  # type: ignore[assignment]
        timed = [value[2] for key, value in stats.items() if key[2] == callee]
        if not timed:
            raise ProfileError(f"cProfile did not record {callee!r}; cannot measure its cost")
        on_callee = min(timed[0] / calls, added)
        if added < best[0]:
            best = (added, on_callee, added - on_callee)
    return best[1], best[2]


def measure_call_split(
    *,
    calls: int = 20_000,
    repeats: int = 3,
    clock: Clock = time.perf_counter,
    timer: Clock | None = None,
) -> CallCost:
    """What cProfile adds per call on this interpreter, callee and caller parts.

    For a Python call (an empty function) and a C call (``abs(0)``): a loop of `calls`
    calls runs plainly and under cProfile; the added time per call is split into what
    cProfile charged to the callee (its measured self time per call, whose true cost is
    a few nanoseconds) and the rest, charged to the loop. Best of `repeats`; about 30 ms.
    `clock` times the loops; `timer` is cProfile's own clock (both fakes in tests).
    """
    if calls < 1 or repeats < 1:
        raise ProfileError("measure_call_split needs calls >= 1 and repeats >= 1")
    check_no_profiler()
    callee, caller = _split(_python_calls, "_noop", calls, repeats, clock, timer)
    native_callee, native_caller = _split(
        _native_calls, "<built-in method builtins.abs>", calls, repeats, clock, timer
    )
    return CallCost(callee, caller, native_callee, native_caller)


def remove_call_cost(
    stats: Mapping[FuncKey, FuncStats], cost: CallCost
) -> dict[FuncKey, FuncStats]:
    """cProfile statistics less its own cost, as `cost` says it was charged.

    A function's self time loses its calls x the callee part and, for every call it
    made (counted on its callees' caller edges), the caller part; a caller edge's self
    time loses its calls x the callee part. All floored at 0. Cumulative times are left
    as they are: what a function's callees cost cProfile is not known per function
    when there is recursion.
    """
    made: dict[FuncKey, float] = {}
    for key, (_pc, _nc, _tt, _ct, callers) in stats.items():
        per_call = cost.caller(key)
        for caller, (enc, _epc, _ett, _ect) in callers.items():
            made[caller] = made.get(caller, 0.0) + enc * per_call
    fixed: dict[FuncKey, FuncStats] = {}
    for key, (pcalls, ncalls, tottime, cumtime, callers) in stats.items():
        per_call = cost.callee(key)
        edges: dict[FuncKey, EdgeStats] = {
            caller: (nc, pc, max(tt - nc * per_call, 0.0), ct)
            for caller, (nc, pc, tt, ct) in callers.items()
        }
        own = max(tottime - ncalls * per_call - made.get(key, 0.0), 0.0)
        fixed[key] = (pcalls, ncalls, own, cumtime, edges)
    return fixed


def _holders(
    stats: Mapping[FuncKey, FuncStats], key: FuncKey, path: frozenset[FuncKey]
) -> dict[FuncKey, float]:
    """Where a C function's self time goes: the functions that take it, with fractions.

    Callers weigh by the self time of their edge, or by its calls when no edge has
    any. A C caller passes its part on to its own callers; a C function with no caller
    to give to (the first call of the run) keeps its time.
    """
    callers = {
        caller: edge
        for caller, edge in stats[key][4].items()
        if caller in stats and caller != key and caller not in path
    }
    weights = {caller: edge[2] for caller, edge in callers.items()}
    if sum(weights.values()) <= 0:
        weights = {caller: float(edge[0]) for caller, edge in callers.items()}
    total = sum(weights.values())
    if total <= 0:
        return {key: 1.0}
    holders: dict[FuncKey, float] = {}
    for caller, weight in weights.items():
        if weight <= 0:
            continue
        share = weight / total
        if is_native(caller):
            for holder, part in _holders(stats, caller, path | {key}).items():
                holders[holder] = holders.get(holder, 0.0) + share * part
        else:
            holders[caller] = holders.get(caller, 0.0) + share
    return holders


def _add_edge(edges: dict[FuncKey, EdgeStats], caller: FuncKey, edge: EdgeStats) -> None:
    old = edges.get(caller, (0, 0, 0.0, 0.0))
    edges[caller] = (old[0] + edge[0], old[1] + edge[1], old[2] + edge[2], old[3] + edge[3])


def fold_native(stats: Mapping[FuncKey, FuncStats]) -> dict[FuncKey, FuncStats]:
    """cProfile statistics as the stack sampler sees them: no C functions.

    Each C function's (file ``~``) self time moves to the Python functions that called
    it, in proportion to the self time of each caller edge (to its calls when no edge
    has any), and the C function is removed. Calls from a removed C function (a
    ``sorted`` key, a ``map`` callback) become calls from its callers, in the same
    proportions. Self time folded into a function is spread over its own caller edges
    by their self time. A C function with no caller to give to keeps its time. Self
    times still add up to the same total; cumulative times do not change.
    """
    holders = {key: _holders(stats, key, frozenset()) for key in stats if is_native(key)}
    moved = {key: dist for key, dist in holders.items() if dist != {key: 1.0}}
    extra: dict[FuncKey, float] = {}
    for key, dist in moved.items():
        for holder, part in dist.items():
            extra[holder] = extra.get(holder, 0.0) + stats[key][2] * part
    folded: dict[FuncKey, FuncStats] = {}
    for key, (pcalls, ncalls, tottime, cumtime, callers) in stats.items():
        if key in moved:
            continue
        edges: dict[FuncKey, EdgeStats] = {}
        for caller, edge in callers.items():
            if caller not in moved:
                _add_edge(edges, caller, edge)
                continue
            pc, nc, tt, ct = edge
            for holder, part in moved[caller].items():
                _add_edge(edges, holder, (round(pc * part), round(nc * part), tt * part, ct * part))
        added = extra.get(key, 0.0)
        edge_self = sum(edge[2] for edge in edges.values())
        if added > 0 and edge_self > 0:
            edges = {
                caller: (pc, nc, tt + added * tt / edge_self, ct)
                for caller, (pc, nc, tt, ct) in edges.items()
            }
        folded[key] = (pcalls, ncalls, tottime + added, max(cumtime, tottime + added), edges)
    return folded
