"""The what-if pass: re-run the code with the top functions instrumented, and predict what
specific changes to each would win for the whole run.

The pass runs the code once more, with a probe (:mod:`whatif_probe`) in place of each
chosen function (:mod:`whatif_targets`) in every module, namespace and class that holds
it, and restores them all afterwards (:class:`workbench.experiment.patch.Patch`). The
predictions (:mod:`whatif_changes`, :mod:`whatif_offload`) rest on what the probes
measured, the capture's call counts, and costs measured on this interpreter
(:mod:`whatif_costs`); each comes with the evidence it rests on and a range. Its own cost
is reported apart, like the line pass.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench.errors import ProfileError
from workbench.experiment.patch import Patch, Target, qualified_name
from workbench.profiling import whatif_changes as changes
from workbench.profiling.capture import Clock, FuncKey, FuncStats, Step, describe_error
from workbench.profiling.whatif_costs import Costs, measure_costs
from workbench.profiling.whatif_offload import gpu_seconds, numpy_calls, offload_savings, own_uses
from workbench.profiling.whatif_probe import Log, ProbeState, make_probe
from workbench.profiling.whatif_static import data_globals, forwards_to, loop_lines, purity
from workbench.profiling.whatif_targets import Candidate, choose, index_functions

COLUMNS = [
    "function",
    "change",
    "predicted_low",
    "predicted",
    "predicted_high",
    "saving_s",
    "recommended",
    "evidence",
    "calls",
    "try",
]
SHOWN = 5  # the report shows the best five


@dataclass(frozen=True)
class WhatIfPass:
    """What the what-if pass measured and predicted.

    `changes` has one row per change and function (see COLUMNS), best first;
    `functions` were instrumented; `seconds` is the pass's wall time, `plain_s` the plain
    run's time it estimates; `notes` say what was left out and why.
    """

    changes: pd.DataFrame
    functions: tuple[str, ...]
    seconds: float
    plain_s: float
    notes: tuple[str, ...] = ()
    error: str | None = None
    logs: Mapping[str, Log] = field(default_factory=dict, repr=False)

    def best(self, n: int = SHOWN) -> pd.DataFrame:
        """The `n` recommended changes predicted to win most."""
        recommended = self.changes[self.changes["recommended"]]
        return recommended.head(n)

    def lookup(self, change: str, function: str) -> pd.Series | None:
        """The row predicting `change` on `function` (None when there is none)."""
        rows = self.changes[
            (self.changes["change"] == change) & (self.changes["function"] == function)
        ]
        return None if rows.empty else rows.iloc[0]


def frame(predictions: Sequence[changes.Prediction]) -> pd.DataFrame:
    """The what-if table, best first (recommended changes, then by predicted speedup)."""
    rows = [
        (
            p.function,
            p.change,
            p.low,
            p.point,
            p.high,
            p.saving_s,
            p.recommended,
            p.evidence,
            p.calls,
            p.trial,
        )
        for p in predictions
    ]
    table = pd.DataFrame.from_records(rows, columns=COLUMNS)
    if table.empty:
        return table.astype({"recommended": bool})
    return table.sort_values(
        ["recommended", "predicted", "predicted_low"], ascending=False, kind="stable"
    ).reset_index(drop=True)


def _arity(func: types.FunctionType) -> int:
    code = func.__code__
    return int(code.co_argcount + code.co_kwonlyargcount)


def _array_types() -> tuple[type, ...]:
    numpy = sys.modules.get("numpy")
    return (numpy.ndarray,) if numpy is not None else ()


INLINE_MIN_CALLS = 1_000  # a wrapper called less often cannot cost much


def _thin_wrappers(
    functions: pd.DataFrame,
    stats: Mapping[FuncKey, FuncStats],
    namespace: Mapping[str, Any],
    run: changes.RunTime,
    costs: Costs,
    capture: tuple[float, int, float] | None,
) -> list[changes.Prediction]:
    """Inline predictions for the user's functions that only pass their arguments on,
    from their own time in the cProfile run with cProfile's cost taken out."""
    from workbench.profiling.debias import remove_call_cost

    user = functions[
        ~functions["native"]
        & ~functions["category"].isin(("stdlib", "native", "GPU"))
        & ~functions["category"].str.startswith("library:")
        & (functions["ncalls"] >= INLINE_MIN_CALLS)
    ]
    if user.empty or costs.split is None:
        return []
    index = index_functions(user["file"], namespace)
    measured = remove_call_cost(stats, costs.split)
    fitted = measured
    if capture is not None:
        added = capture[0] - run.seconds
        fitted = remove_call_cost(stats, costs.split.scaled_to(stats, added))
    found = []
    for path, line, name, ncalls in zip(
        user["file"], user["line"], user["name"], user["ncalls"], strict=True
    ):
        key = (path, int(line), name)
        hit = index.get(key)
        if hit is None or key not in stats:
            continue
        func = hit[0]
        forwards = forwards_to(func)
        if forwards is None:
            continue
        calls = int(ncalls)
        own = (fitted[key][2] / calls, measured[key][2] / calls)
        inclusive = stats[key][3]  # as profiled: at most this, scaled to the plain run
        ceiling = inclusive * run.seconds / capture[0] if capture and capture[0] > 0 else inclusive
        made = changes.inline(
            qualified_name(func), calls, own, _arity(func), run, costs, forwards, ceiling
        )
        if made is not None:
            found.append(made)
    return found


def predictions(
    chosen: Sequence[Candidate],
    logs: Mapping[str, Log],
    state: ProbeState,
    stats: Mapping[FuncKey, FuncStats],
    functions: pd.DataFrame,
    *,
    wall_s: float,
    costs: Costs,
    rebound: Mapping[str, list[str]],
    per_call_cost_s: float,
    router: object | None,
    capture: tuple[float, int, float] | None = None,
    namespace: Mapping[str, Any] | None = None,
    exact_counts: bool = True,
) -> tuple[list[changes.Prediction], list[str]]:
    """Every prediction the measurements support, and notes on what could not be;
    `capture` is (wall seconds, calls, per-call cost) of the cProfile run."""
    probes = changes.in_situ(logs)
    run = changes.run_time(wall_s, probes, costs, capture)
    loops: dict[str, set[int]] = {}
    made: list[changes.Prediction] = []
    notes: list[str] = []
    gpu = None
    for candidate in chosen:
        log = logs.get(candidate.name)
        if log is None:
            flags = changes.memo_flags(Log(candidate.name), purity(candidate.func), (), True)
            why = "NOT APPLICABLE: " + "; ".join(flags)
            made.append(changes.not_applicable(candidate.name, "memoize", why, candidate.calls))
            continue
        flags = changes.memo_flags(
            log, purity(candidate.func), rebound.get(candidate.name, []), candidate.generator
        )
        for item in (
            changes.memoize(candidate.name, log, run, costs, flags, probes),
            changes.exceptions(candidate.name, log, run, costs),
        ):
            if item is not None:
                made.append(item)
        if candidate.sites:
            for path, *_ in log.site_calls():
                if path not in loops:
                    loops[path] = loop_lines(path)
            item = changes.batch(
                candidate.name, log, run, costs, _arity(candidate.func), loops, probes
            )
            if item is not None:
                made.append(item)
        if log.array_calls and router is not None:
            gpu = gpu or gpu_seconds(router)
            offload = _offload(candidate, log, stats, run, router, gpu)
            if isinstance(offload, str):
                notes.append(offload)
            elif offload is not None:
                made.append(offload)
    if exact_counts:
        made += _thin_wrappers(functions, stats, namespace or {}, run, costs, capture)
    else:
        notes.append("inline: not predicted: it needs exact call counts (--mode cprofile)")
    return made, notes


def _offload(
    candidate: Candidate,
    log: Log,
    stats: Mapping[FuncKey, FuncStats],
    run: changes.RunTime,
    router: Any,
    gpu: Any,
) -> changes.Prediction | str | None:
    status = router.gpu_status
    if not status.available:
        return f"offload: not predicted for {candidate.name}: no GPU here ({status.reason})"
    ops = set(router.registry.names())
    uses = numpy_calls(candidate.key, stats, ops) + own_uses(
        candidate.func, candidate.key, stats, ops
    )
    found = offload_savings(candidate.func, uses, log.array_max, gpu)
    if found is None:
        return None
    low, high, detail = found
    evidence = (
        f"array arguments of up to {log.array_max:,} elements ({log.array_calls:,} of them "
        f"over {log.calls:,} calls); {detail} "
        f"(the router's cost model, profile {router.profile.name!r}); low end: copies both ways "
        f"every call; high end: the data lives on the GPU. Whole run {run.how}."
    )
    made = changes.predict(
        candidate.name,
        "offload",
        run,
        (low, (low + high) / 2, high),
        evidence,
        recommended=False,
        calls=log.calls,
    )
    return changes.recommend(made)


NOTHING_PROBED = (
    "What-if pass: none of your functions could be probed, so nothing is predicted (it "
    "probes Python functions of your own code that ran at least twice, not the standard "
    "library's, installed packages' or C functions)"
)


def run_whatif(
    steps: Sequence[Step],
    functions: pd.DataFrame,
    stats: Mapping[FuncKey, FuncStats],
    namespace: MutableMapping[str, Any],
    *,
    plain_s: float,
    per_call_cost_s: float,
    costs: Costs | None = None,
    router: object | None = None,
    clock: Clock = time.perf_counter,
    focus: Sequence[object] = (),
    capture: tuple[float, int, float] | None = None,
    exact_counts: bool = True,
) -> tuple[WhatIfPass, BaseException | None]:
    """Re-run `steps` with the top functions of the capture (`functions`, `stats`)
    instrumented; `plain_s` is the capture's estimate of the plain run (the budget),
    `per_call_cost_s` cProfile's cost per call; `focus` holds functions (as stored) that
    are probed whatever their rank; `capture` is (wall seconds, calls, per-call cost) of
    the cProfile run (see ``whatif_changes.run_time``). Returns the pass and the exception the code raised,
    unchanged."""
    if sys.getprofile() is not None:
        raise ProfileError("another profiler is active: the what-if pass needs it stopped first")
    costs = costs or measure_costs(clock)
    chosen, notes = choose(functions, namespace, costs, plain_s=plain_s, focus=focus)
    probed = [c for c in chosen if not c.generator]
    if not probed:
        empty = frame([])
        return WhatIfPass(empty, (), 0.0, plain_s, (*notes, NOTHING_PROBED)), None
    state = ProbeState(costs.probe, clock_s=costs.clock_s)
    logs = {c.name: Log(c.name) for c in probed}
    arrays = _array_types()
    data = {c.name: data_globals(c.func) for c in probed}
    edits = [
        (
            Target(c.name, c.name, c.func, c.stored),
            _probe_factory(logs[c.name], state, clock, c.sites, arrays, costs),
        )
        for c in probed
    ]
    patch = Patch(edits, [namespace])
    start = clock()
    error: BaseException | None = None
    with patch:
        try:
            for step in steps:
                step()
        except BaseException as exc:  # handed back to the caller unchanged
            error = exc
        wall = clock() - start
        left = patch.restore()
    state.last_exc = None
    if left:
        notes.append(
            "the code rebound " + ", ".join(left) + " while the pass ran (a function defined in "
            "the profiled cell itself?): calls after that were not measured"
        )
    rebound = {
        c.name: [g for g, ident in data[c.name].items() if id(c.func.__globals__.get(g)) != ident]
        for c in probed
    }
    made, more = predictions(
        chosen,
        logs,
        state,
        stats,
        functions,
        wall_s=wall,
        costs=costs,
        rebound=rebound,
        per_call_cost_s=per_call_cost_s,
        router=router,
        capture=capture,
        namespace=namespace,
        exact_counts=exact_counts,
    )
    notes += more
    missed = [
        f"{c.name} {logs[c.name].calls:,} of {c.calls:,}"
        for c in probed
        if logs[c.name].calls < c.calls and error is None
    ]
    if missed:
        notes.append(
            f"The probes saw only part of the calls cProfile counted for {len(missed)} "
            "function(s) (the rest went through references no module holds, such as "
            "closures and functions kept in containers); their predictions count the calls "
            "seen, as --try patches the same holders: " + "; ".join(missed)
        )
    run = changes.run_time(wall, changes.in_situ(logs), costs, capture)
    result = WhatIfPass(
        frame(made),
        tuple(c.name for c in probed),
        wall,
        run.seconds,
        tuple(notes),
        describe_error(error),
        logs,
    )
    return result, error


def _probe_factory(
    log: Log, state: ProbeState, clock: Clock, sites: bool, arrays: tuple[type, ...], costs: Costs
) -> Any:
    own = costs.probe_sites if sites else costs.probe

    def make(func: types.FunctionType) -> Any:
        return make_probe(func, log, state, clock=clock, sites=sites, arrays=arrays, costs=own)

    return make
