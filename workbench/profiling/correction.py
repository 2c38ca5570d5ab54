"""Shares with cProfile's own cost taken out and the C time folded into its callers.

cProfile's cost lands in the self time of the functions it times (:mod:`cost_model`
says how much): each function's part is the instructions it ran (their added cost),
the share of its calls' events charged to it as the callee, and the share of the events
of the calls it made charged to it as the caller. Taking each function's part out of its
self time, and out of the cumulative time of every function above it, gives the times a
plain run would have; folding each C function's time into the Python functions that
called it (:func:`workbench.profiling.debias.fold_native`) gives each category the C work
it asked for.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

from workbench.profiling.capture import EdgeStats, FuncKey, FuncStats
from workbench.profiling.cost_model import CostModel, calls_made, count_functions, is_generator

# Share of an event's cost that cProfile charges to the called function's self time (the
# rest lands on the caller's): about 30% for a Python call on CPython 3.11, measured by
# `workbench.profiling.debias.measure_call_split`; a C function's own time is short, so
# half of its event is taken to be on each side.
CALLEE_SHARE = 0.3
NATIVE_CALLEE_SHARE = 0.5


def function_costs(
    stats: Mapping[FuncKey, FuncStats],
    model: CostModel,
    codes: Mapping[FuncKey, types.CodeType],
    *,
    added_s: float | None = None,
) -> dict[FuncKey, float]:
    """Seconds of each function's self time that are cProfile's own (see the module doc);
    scaled so that they add up to `added_s` when a plain run measured it."""
    counts = count_functions(stats, codes, model)
    factor_loss = 1.0 - 1.0 / max(model.loop_factor, 1.0)
    costs: dict[FuncKey, float] = dict.fromkeys(stats, 0.0)
    for key, (_pc, ncalls, _tt, _ct, callers) in stats.items():
        if key[0] == "~":
            event, share = model.c_call_s, NATIVE_CALLEE_SHARE
        else:
            event = model.resume_s if is_generator(key, codes) else model.python_call_s
            share = CALLEE_SHARE
            count = counts.get(key)
            if count is not None:
                costs[key] += count.added_s
                costs[key] += count.loop_s * factor_loss
        costs[key] += ncalls * event * share
        for caller, edge in callers.items():
            if caller in costs:
                costs[caller] += edge[1] * event * (1.0 - share)
    total = sum(costs.values())
    if added_s is not None and total > 0:
        scale = added_s / total
        costs = {key: cost * scale for key, cost in costs.items()}
    return costs


def subtree_costs(
    stats: Mapping[FuncKey, FuncStats], costs: Mapping[FuncKey, float]
) -> dict[FuncKey, float]:
    """cProfile's cost inside each function's cumulative time: its own, and of each callee
    the share of the callee's cumulative time that its calls from here account for.
    Callees are done before callers (by cumulative time); recursion is counted once."""
    callees: dict[FuncKey, list[tuple[FuncKey, float]]] = {}
    for callee, (_pc, _nc, _tt, cumtime, callers) in stats.items():
        for caller, edge in callers.items():
            if caller != callee and cumtime > 0:
                callees.setdefault(caller, []).append((callee, min(edge[3] / cumtime, 1.0)))
    inside: dict[FuncKey, float] = {}
    for key in sorted(stats, key=lambda k: stats[k][3]):
        below = sum(
            part * inside.get(callee, costs.get(callee, 0.0))
            for callee, part in callees.get(key, [])
        )
        inside[key] = min(costs.get(key, 0.0) + below, stats[key][3])
    return inside


def corrected_stats(
    stats: Mapping[FuncKey, FuncStats], costs: Mapping[FuncKey, float]
) -> dict[FuncKey, FuncStats]:
    """`stats` with each function's cost out of its self time (floored at 0, its caller
    edges in proportion) and the costs below it out of its cumulative time."""
    inside = subtree_costs(stats, costs)
    fixed: dict[FuncKey, FuncStats] = {}
    for key, (pcalls, ncalls, tottime, cumtime, callers) in stats.items():
        own = max(tottime - costs.get(key, 0.0), 0.0)
        keep = own / tottime if tottime > 0 else 0.0
        cum_keep = max(cumtime - inside.get(key, 0.0), own) / cumtime if cumtime > 0 else 0.0
        edges: dict[FuncKey, EdgeStats] = {
            caller: (pc, nc, tt * keep, ct * cum_keep)
            for caller, (pc, nc, tt, ct) in callers.items()
        }
        fixed[key] = (pcalls, ncalls, own, max(cumtime * cum_keep, own), edges)
    return fixed


__all__ = ["calls_made", "corrected_stats", "function_costs", "subtree_costs"]
