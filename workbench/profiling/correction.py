"""Shares with cProfile's own cost taken out and the C time folded into its callers.

cProfile's cost lands in the self time of the functions it times (:mod:`cost_model`
says how much): each function's part is the instructions it ran (their added cost),
the share of its calls' events charged to it as the callee, and the share of the events
of the calls it made charged to it as the caller (all calls: a caller edge's first count,
recursive ones included). A function holds no more than its self time; the rest of an
event was charged to its callers (:func:`overflow_to_callers`). Taking each function's
part out of its self time, and out of the cumulative time of every function above it (of
each function's cost, the share that ran with it on the stack: :func:`under_each`, which
counts a recursive function's inner frames once, as cProfile's cumtime does), gives the
times a plain run would have; folding each C function's time into the Python functions
that called it (:func:`workbench.profiling.debias.fold_native`) gives each category the C
work it asked for.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

import numpy as np

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
                costs[caller] += edge[0] * event * (1.0 - share)
    total = sum(costs.values())
    if added_s is not None and total > 0:
        scale = added_s / total
        costs = {key: cost * scale for key, cost in costs.items()}
    return overflow_to_callers(stats, costs)


def overflow_to_callers(
    stats: Mapping[FuncKey, FuncStats], costs: Mapping[FuncKey, float]
) -> dict[FuncKey, float]:
    """`costs` with what exceeds a function's self time moved to its callers (by the self
    time of each caller edge, else its calls): cProfile's cost of an event lands in one
    self time or the other, and a function cannot hold more of it than its self time; the
    caller's side is where the rest of the event was charged. Callees go first (by
    cumulative time), so what a caller receives can move on up; what has nowhere to go
    stays (the correction floors self times at 0)."""
    moved = dict(costs)
    for key in sorted(stats, key=lambda k: (stats[k][3], stats[k][2])):
        _pc, _nc, tottime, _ct, callers = stats[key]
        excess = moved.get(key, 0.0) - tottime
        edges = {c: e for c, e in callers.items() if c in moved and c != key}
        if excess <= 0 or not edges:
            continue
        weight = sum(e[2] for e in edges.values())
        by = 2 if weight > 0 else 0
        weight = weight if weight > 0 else sum(e[0] for e in edges.values())
        if weight <= 0:
            continue
        moved[key] = tottime
        for caller, edge in edges.items():
            moved[caller] += excess * edge[by] / weight
    return moved


Weights = dict[FuncKey, dict[FuncKey, float]]
# Components (functions that call each other round) up to this size are solved exactly;
# larger ones by this many sparse steps.
DENSE_LIMIT = 300
SWEEPS = 60


def _caller_weights(stats: Mapping[FuncKey, FuncStats]) -> tuple[Weights, Weights]:
    """Per function, its callers' shares of its self time (`own`: exact, each caller edge's
    self time) and of its inclusive time (`up`: each edge's cumulative time; for a
    recursive function, whose edge cumtimes overlap as each counts only its outermost
    calls from that caller, its self time's split). Calls stand in where times are 0."""
    own: Weights = {}
    up: Weights = {}
    for key, (pcalls, _nc, _tt, _ct, callers) in stats.items():
        edges = {c: e for c, e in callers.items() if c in stats}
        tt = sum(e[2] for e in edges.values())
        calls = sum(e[0] for e in edges.values()) or 1
        own[key] = {c: e[2] / tt if tt > 0 else e[0] / calls for c, e in edges.items()}
        cum = sum(e[3] for e in edges.values()) if pcalls == _nc else 0.0
        up[key] = {c: e[3] / cum for c, e in edges.items()} if cum > 0 else own[key]
    return own, up


def _components(
    keys: list[FuncKey], callees: Mapping[FuncKey, list[FuncKey]]
) -> list[list[FuncKey]]:
    """Strongly connected components of the call graph, callees' before their callers'
    (Tarjan's order, without recursion)."""
    index: dict[FuncKey, int] = {}
    low: dict[FuncKey, int] = {}
    stack: list[FuncKey] = []
    on_stack: set[FuncKey] = set()
    found: list[list[FuncKey]] = []
    for root in keys:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, at = work.pop()
            if at == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            nexts = callees[node]
            if at < len(nexts):
                work.append((node, at + 1))
                child = nexts[at]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                part: list[FuncKey] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    part.append(top)
                    if top == node:
                        break
                found.append(part)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def under_each(
    stats: Mapping[FuncKey, FuncStats], values: Mapping[FuncKey, float]
) -> dict[FuncKey, float]:
    """For each function F, the sum over every function G of ``values[G]`` times the share
    of G's self time that ran with F on the stack (G's own value whole for G = F).

    G's self time splits over its callers exactly; above them, a function's inclusive time
    is taken to split over its callers the same way at every depth (see
    :func:`_caller_weights`). Walking up from a caller H, the chance of meeting F before the
    top is ``C[h, f] / C[f, f]`` with ``C = (I - W)^-1``, ``W`` the walk's step (an
    absorbing Markov chain: expected visits to F from H over those from F itself), so a
    recursive F is met once however often it recurs, as cProfile counts its inner frames'
    time once. ``b C`` is solved callees first, one strongly connected component at a time
    (dense only within a component), and ``C[f, f]`` only involves F's component."""
    keys = list(stats)
    own, up = _caller_weights(stats)
    callees: dict[FuncKey, list[FuncKey]] = {key: [] for key in keys}
    for key in keys:
        for caller in up[key]:
            callees[caller].append(key)
    start: dict[FuncKey, float] = dict.fromkeys(keys, 0.0)  # b = values @ own
    for key in keys:
        for caller, w in own[key].items():
            start[caller] += values.get(key, 0.0) * w
    solved: dict[FuncKey, float] = {}  # y = b C, y[f] = b[f] + sum over callees g of y[g] up[g, f]
    back: dict[FuncKey, float] = {}  # C[f, f]
    self_under: dict[FuncKey, float] = {}  # (own @ met)[f, f]: F's self time below itself
    for part in _components(keys, callees):
        at = {key: i for i, key in enumerate(part)}
        n = len(part)
        rhs = np.array([start[key] for key in part])
        for key in part:
            for callee in callees[key]:
                if callee not in at and callee in solved:
                    rhs[at[key]] += solved[callee] * up[callee].get(key, 0.0)
        inner = [(g, at[c], w) for g, k in enumerate(part) for c, w in up[k].items() if c in at]
        if not inner:
            solved[part[0]] = float(rhs[0])
            back[part[0]] = 1.0
            self_under[part[0]] = 0.0
            continue
        if n > DENSE_LIMIT:
            _sweep(part, rhs, inner, own, solved, back, self_under)
            continue
        step = np.zeros((n, n))
        for g, h, w in inner:
            step[g, h] += w
        system = np.eye(n) - step * (1.0 - 1e-12)
        visits = np.linalg.pinv(system) if np.linalg.cond(system) > 1e12 else np.linalg.inv(system)
        y = rhs @ visits
        for f, key in enumerate(part):
            solved[key] = float(y[f])
            back[key] = float(visits[f, f]) if visits[f, f] > 0 else 1.0
            self_under[key] = sum(
                w * float(visits[at[caller], f]) / back[key]
                for caller, w in own[key].items()
                if caller in at
            )
    return {
        key: solved[key] / back[key] + values.get(key, 0.0) * (1.0 - self_under[key])
        for key in keys
    }


def _sweep(
    part: list[FuncKey],
    rhs: np.ndarray,
    inner: list[tuple[int, int, float]],
    own: Weights,
    solved: dict[FuncKey, float],
    back: dict[FuncKey, float],
    self_under: dict[FuncKey, float],
) -> None:
    """A component too large to invert: ``y = b C`` by repeated sparse steps, and a return
    to the same function counted only through direct recursion (its self edge)."""
    g = np.array([e[0] for e in inner])
    h = np.array([e[1] for e in inner])
    w = np.array([e[2] for e in inner]) * (1.0 - 1e-9)
    y = rhs.copy()
    for _ in range(SWEEPS):
        y = rhs + np.bincount(h, weights=y[g] * w, minlength=len(part))
    loops = dict.fromkeys(range(len(part)), 0.0)
    for f, to, weight in inner:
        if f == to:
            loops[f] += weight
    for f, key in enumerate(part):
        loop = loops[f]
        back[key] = 1.0 / (1.0 - loop) if loop < 1.0 else 1.0
        solved[key] = float(y[f])
        self_under[key] = own[key].get(key, 0.0)


def subtree_costs(
    stats: Mapping[FuncKey, FuncStats], costs: Mapping[FuncKey, float]
) -> dict[FuncKey, float]:
    """cProfile's cost inside each function's cumulative time: of every function's cost
    (no more than its self time, as :func:`corrected_stats` takes out), the share that ran
    with it on the stack (:func:`ancestry`), as a share of the time the same shares give
    it, applied to its measured cumulative time."""
    own = {key: value[2] for key, value in stats.items()}
    taken = {key: min(costs.get(key, 0.0), own[key]) for key in stats}
    inside = under_each(stats, taken)
    spent = under_each(stats, own)
    inside_s: dict[FuncKey, float] = {}
    for key, value in stats.items():
        part = inside[key] / spent[key] if spent[key] > 0 else 0.0
        inside_s[key] = min(max(part, 0.0), 1.0) * value[3]
    return inside_s


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


__all__ = [
    "calls_made",
    "corrected_stats",
    "function_costs",
    "overflow_to_callers",
    "subtree_costs",
]
