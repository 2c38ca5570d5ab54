"""Which functions the what-if pass instruments: the user's top functions of the capture.

Only the user's own Python functions are candidates (not the standard library, installed
packages, C functions or GPU code), found by their code's (file, line, name) among the
namespace, the modules of the profiled files and the classes in them, and only where a
module, the namespace or a class holds them (so a probe can take their place). The pass
must stay cheap: each candidate's probe costs about its call count times a probe's own
cost (measured), and candidates are taken by inclusive time until the budget is spent.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.experiment.patch import Holder, holders, qualified_name, underlying
from workbench.profiling.capture import FuncKey
from workbench.profiling.categories import ModuleIndex, is_cell_file
from workbench.profiling.whatif_costs import Costs

_NOT_USER = ("stdlib", "native", "GPU")
_NOT_PATCHABLE = ("<module>", "<lambda>", "<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")
_GENERATOR_FLAGS = (
    0x20 | 0x80 | 0x100 | 0x200
)  # generator, coroutine, iterable coroutine, async gen
LIMIT = 12  # functions instrumented at most
BUDGET = 1.0  # the probes' predicted cost, as a share of the plain run (the first is free)
SITE_MIN_CALLS = 200  # batch candidates: called at least this often ...
SITE_MAX_CALL_S = 1e-4  # ... and this quickly per call (small inputs)


@dataclass(frozen=True)
class Candidate:
    """One function the pass may instrument, with what the capture measured of it."""

    key: FuncKey
    func: types.FunctionType
    stored: object
    name: str
    calls: int
    cumtime: float
    tottime: float
    sites: bool
    generator: bool
    places: tuple[Holder, ...]


def _pools(files: Iterable[str], namespace: Mapping[str, object]) -> list[Mapping[str, object]]:
    pools: list[Mapping[str, object]] = [namespace]
    modules = ModuleIndex()
    for path in sorted(set(files)):
        name = None if is_cell_file(path) else modules.lookup(path)
        module = sys.modules.get(name) if name else None
        if module is not None:
            pools.append(vars(module))
    return pools


def index_functions(
    files: Iterable[str], namespace: Mapping[str, object]
) -> dict[FuncKey, tuple[types.FunctionType, object]]:
    """(file, line, name) -> (function, the object holding it: itself or a static or
    class method) for the functions of the namespace and of the profiled files' modules,
    and the methods of their classes."""
    found: dict[FuncKey, tuple[types.FunctionType, object]] = {}

    def add(value: object) -> None:
        func = underlying(value)
        if func is not None:
            code = func.__code__
            found.setdefault((code.co_filename, code.co_firstlineno, code.co_name), (func, value))

    for pool in _pools(files, namespace):
        for value in list(pool.values()):
            add(value)
            if isinstance(value, type):
                for member in list(vars(value).values()):
                    add(member)
    return found


def probe_cost(costs: Costs, sites: bool) -> float:
    """What a probe is expected to add to one call (its measured own cost and four clock
    readings)."""
    probe = costs.probe_sites if sites else costs.probe
    return probe.fixed_s + probe.bias_s + 4 * costs.clock_s


def choose(
    functions: pd.DataFrame,
    namespace: MutableMapping[str, Any],
    costs: Costs,
    *,
    plain_s: float,
    limit: int = LIMIT,
    budget: float = BUDGET,
    focus: Sequence[object] = (),
) -> tuple[list[Candidate], list[str]]:
    """The candidates, by inclusive time, within the probes' budget (the functions in
    `focus` first, whatever their rank and cost); and notes on what was left out and why."""
    user = functions[
        ~functions["native"]
        & ~functions["category"].isin(_NOT_USER)
        & ~functions["category"].str.startswith("library:")
        & ~functions["name"].isin(_NOT_PATCHABLE)
        & (functions["ncalls"] >= 2)
    ].sort_values(["cumtime", "tottime"], ascending=False, kind="stable")
    index = index_functions(user["file"], namespace)
    rows = []
    for path, line, name, ncalls, cumtime, tottime in zip(
        user["file"],
        user["line"],
        user["name"],
        user["ncalls"],
        user["cumtime"],
        user["tottime"],
        strict=True,
    ):
        hit = index.get((path, int(line), name))
        if hit is not None:
            rows.append(((path, int(line), name), hit, int(ncalls), float(cumtime), float(tottime)))
    wanted = {id(obj) for obj in focus}
    rows.sort(key=lambda row: id(row[1][1]) not in wanted)  # stable: the focus first
    places = holders([stored for _, (_, stored), *_ in rows], [namespace])
    chosen: list[Candidate] = []
    notes: list[str] = []
    spent = 0.0
    allowed = budget * plain_s
    for key, (func, stored), ncalls, cumtime, tottime in rows:
        focused = id(stored) in wanted
        if len(chosen) >= limit and not focused:
            break
        held = places[id(stored)]
        name = qualified_name(func)
        if not held:
            notes.append(f"{name}: no module, namespace or class holds it, so it was not measured")
            continue
        generator = bool(func.__code__.co_flags & _GENERATOR_FLAGS)
        sites = ncalls >= SITE_MIN_CALLS and cumtime / ncalls <= SITE_MAX_CALL_S
        cost = 0.0 if generator else ncalls * probe_cost(costs, sites)
        if spent + cost > allowed and not focused and chosen:
            notes.append(
                f"{name}: {ncalls:,} calls would cost about {cost:.2f} s to measure, past the "
                "pass's budget, so it was not measured"
            )
            continue
        spent += cost
        chosen.append(
            Candidate(
                key, func, stored, name, ncalls, cumtime, tottime, sites, generator, tuple(held)
            )
        )
    return chosen, notes
