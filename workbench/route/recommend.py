"""Recommendations for a cell that ran: scanner findings + live sizes + profile counts.

Sizes come only from operands that are plain names or attribute chains, read from the
namespace without calling anything (no properties, no __getattr__, no __len__ of unknown
types). How often a pattern ran comes from the profile's functions table.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import gpu
from workbench.errors import RouteError
from workbench.route.backends import list_shape
from workbench.route.cost import fmt_seconds
from workbench.route.kinds import Backend, Complexity, Location
from workbench.route.learned import default_profile_path
from workbench.route.machine_profile import MachineProfile
from workbench.route.router import Router
from workbench.route.scanner import Finding, scan_source

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = [
    "line",
    "code",
    "pattern",
    "complexity",
    "operands",
    "size",
    "residency",
    "runs",
    "backend",
    "reason",
    "function",
    "op",
    "seed_table",
]
_MISSING = object()
# Seed 000's pattern table: the backend each complexity recommends when the size is unknown.
SEED_PATTERN_TABLE = {
    Complexity.HIGH: Backend.GPU,
    Complexity.MEDIUM: Backend.SIMD,
    Complexity.LOW: Backend.SCALAR,
}


def safe_value(expression: str, namespace: Mapping[str, object]) -> object:
    """The value of a plain name or attribute chain, looked up without calling anything;
    _MISSING when it is anything else or would need a call (property, __getattr__)."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return _MISSING
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in namespace:
        return _MISSING
    value = namespace[node.id]
    for attr in reversed(chain):
        found = inspect.getattr_static(value, attr, _MISSING)
        if found is _MISSING or hasattr(type(found), "__get__"):
            return _MISSING  # absent, or a descriptor: reading it would run code
        value = found
    return value


def describe_value(value: object) -> tuple[int | None, str]:
    """(elements, residency) of a value of a known type; (None, 'unknown') otherwise."""
    t = type(value)
    if t is np.ndarray:
        return int(value.size), "host"  # type: ignore[attr-defined]
    if gpu.is_device_type(t) and t.__name__ == "ndarray":
        return int(value.size), "device"  # type: ignore[attr-defined]
    if t is list or t is tuple:
        shape = list_shape(value)  # type: ignore[arg-type]
        return int(np.prod(shape)) if shape else 0, "python"
    if isinstance(value, int) and t is int and value >= 0:
        return value, "python"  # a loop bound: range(n)
    return None, "unknown"


def _runs(finding: Finding, functions: pd.DataFrame | None, filename: str) -> int | None:
    if finding.function is None:
        return 1  # module level of the cell: ran once
    if functions is None or functions.empty:
        return None
    mine = functions[functions["file"] == filename]
    rows = mine[mine["line"].isin(finding.function_lines)]
    if rows.empty:
        rows = mine[mine["name"] == finding.function.rpartition(".")[2]]
    return int(rows["ncalls"].sum()) if not rows.empty else 0


def _size_and_place(
    finding: Finding, namespace: Mapping[str, object]
) -> tuple[int | None, str, list[str]]:
    sizes: list[int] = []
    places: set[str] = set()
    unknown: list[str] = []
    bound = dict(finding.bound)
    for operand in finding.operands:
        found = []
        for expression in bound.get(operand, (operand,)):
            value = safe_value(expression, namespace)
            size, place = (None, "unknown") if value is _MISSING else describe_value(value)
            if size is not None:
                found.append((size, place))
        if not found:
            unknown.append(operand)
        for size, place in found:
            sizes.append(size)
            places.add(place)
    if "device" in places:
        place = "device"
    elif "host" in places:
        place = "host"
    elif "python" in places:
        place = "python"
    else:
        place = "unknown"
    return (max(sizes) if sizes else None), place, unknown


def _recommend(
    router: Router, finding: Finding, size: int | None, place: str, runs: int | None
) -> tuple[Backend, str, Backend]:
    seed = SEED_PATTERN_TABLE[finding.complexity]
    ran = (
        ""
        if runs is None
        else ("never ran in this cell; " if runs == 0 else f"ran {runs:,} time(s); ")
    )
    if finding.op is None or size is None:
        backend = seed
        why = "size unknown" if size is None else "the arithmetic is not one the router knows"
        reason = f"{ran}{why}: seed 000's pattern table says {seed.seed_name} for {finding.complexity} complexity"
        if seed is Backend.GPU and not router.gpu_status.available:
            backend = Backend.SIMD
            reason += (
                f" (if above the threshold); no GPU here ({router.gpu_status.reason}), so NumPy"
            )
        return backend, reason, seed
    residency = Location.PYTHON if place in ("python", "unknown") else Location.parse(place)
    exp = router.recommend(finding.op, size, residency=residency)
    chosen = exp.chosen
    pred = exp.predictions.get(chosen)
    others = [
        f"{b.label} {fmt_seconds(p.total_s)}"
        for b, p in exp.predictions.items()
        if p is not None and b is not chosen and b not in exp.excluded
    ]
    where = "lists" if residency is Location.PYTHON else str(residency)
    text = f"{ran}{size:,} elements in {where}: {chosen.label}"
    if pred is not None:
        text += f" predicted {fmt_seconds(pred.total_s)} per run"
        if runs:
            text += f" ({fmt_seconds(pred.total_s * runs)} for {runs:,} runs)"
    if others:
        text += f"; {', '.join(others)}"
    if Backend.CUPY in exp.excluded:
        text += f"; CuPy excluded: {exp.excluded[Backend.CUPY]}"
    if chosen is not Backend.PYTHON and residency is Location.PYTHON:
        text += f"; rewrite with {chosen.label} ({finding.op}) on arrays made once"
    text += f"; seed table: {exp.seed[0].seed_name}"
    return chosen, text, exp.seed[0]


def router_for(profile: MachineProfile | str | os.PathLike[str] | None = None) -> Router:
    """The router %%optimize's recommendations should use: on `profile` (a path or a
    MachineProfile), else on the user's own calibrated profile where there is one
    ($WORKBENCH_PROFILE, or .workbench/machine-profile.json of the project, as written by
    `workbench calibrate -o` or the tuner), else on the seed profile."""
    if profile is not None:
        return Router(profile)
    path = default_profile_path()
    if path.is_file():
        try:
            found = MachineProfile.load(path)
        except RouteError:
            return Router()
        if found.calibrated:
            return Router(found)
    return Router()


def recommendations(
    source: str,
    filename: str,
    namespace: Mapping[str, object],
    functions: pd.DataFrame | None,
    router: Router | None = None,
) -> pd.DataFrame:
    """The patterns of a cell that ran, with sizes from its live values, how often each
    ran (from the profile's `functions` table) and the backend to use, with the reason.

    Columns: line, code, pattern, complexity, operands, size, residency, runs, backend,
    reason, function, op, seed_table. Empty (with those columns) when nothing is found.
    """
    router = router if router is not None else Router()
    arrays = [
        name for name, value in namespace.items() if describe_value(value)[1] in ("host", "device")
    ]
    findings = scan_source(source, filename, arrays)
    rows: list[tuple[Any, ...]] = []
    for finding in findings:
        size, place, unknown = _size_and_place(finding, namespace)
        runs = _runs(finding, functions, filename)
        backend, reason, seed = _recommend(router, finding, size, place, runs)
        if unknown and size is not None:
            reason += f" (size unknown for {', '.join(unknown)})"
        if finding.bound:
            calls = "; ".join(f"{param} = {' or '.join(args)}" for param, args in finding.bound)
            reason += f" (sizes from the calls in this cell: {calls})"
        rows.append(
            (
                finding.line,
                finding.code,
                finding.pattern,
                str(finding.complexity),
                ", ".join(finding.operands),
                size,
                "host" if place == "python" else place,
                runs,
                backend.label,
                reason,
                finding.function or "<module>",
                finding.op or "",
                seed.seed_name,
            )
        )
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    return frame.astype({"size": "Int64", "runs": "Int64"})
