"""offload: what running a hot function's NumPy calls on this machine's GPU would save.

The host side is measured: the NumPy functions and methods the function called (the
capture's caller edges: their calls and seconds) and the largest array it was given (the
probe). The GPU side comes from the router's cost model on its machine profile
(:class:`workbench.route.Router`: the calibrated profile when one is given, the
reference machine's otherwise), for the same op on arrays of that size: the low end with
the data copied to the GPU and back on every call, the high end with the data already
living there (seed 003: GPU in the hot path only). Without a usable GPU nothing is
predicted and the reason is given.

Everything GPU-specific goes through :func:`gpu_seconds`, the one place a per-function
gate (experts measured per size on this machine) plugs in: given the function, the op,
its size and where the data lives, it returns predicted seconds per call or None.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from workbench.profiling.capture import FuncKey, FuncStats

_METHOD = re.compile(r"^<method '(\w+)' of 'numpy\.ndarray' objects>$")
_FUNCTION = re.compile(r"^<(?:built-in method|function) numpy\.(?:[\w.]+\.)?(\w+)>$")

GpuSeconds = Callable[[types.FunctionType, str, int, str], float | None]


@dataclass(frozen=True)
class NativeUse:
    """A NumPy call made by the function: the op, how often, and the host seconds."""

    op: str
    calls: int
    host_s: float


def numpy_calls(key: FuncKey, stats: Mapping[FuncKey, FuncStats], ops: set[str]) -> list[NativeUse]:
    """The NumPy functions and methods `key` called that the router knows as ops."""
    found = []
    for callee, (_cc, _nc, _tt, _ct, callers) in stats.items():
        if callee[0] != "~" or key not in callers:
            continue
        match = _METHOD.match(callee[2]) or _FUNCTION.match(callee[2])
        if match is None or match.group(1) not in ops:
            continue
        calls, _, own, _ = callers[key]
        found.append(NativeUse(match.group(1), int(calls), float(own)))
    return found


def source_ops(func: types.FunctionType, ops: set[str]) -> list[str]:
    """The array ops the router knows that the function's source calls (the scanner)."""
    import inspect
    import textwrap

    from workbench.route.scanner import scan_source

    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return []
    names = func.__code__.co_varnames[: func.__code__.co_argcount]
    found = scan_source(source, func.__code__.co_filename, names)
    return sorted({f.op for f in found if f.op and f.op in ops})


def own_uses(
    func: types.FunctionType, key: FuncKey, stats: Mapping[FuncKey, FuncStats], ops: set[str]
) -> list[NativeUse]:
    """NumPy calls cProfile does not see (``np.dot`` dispatches without a C function
    entry, operators such as ``@`` have none): the ops the source names, sharing the
    function's own time in the capture."""
    named = [u.op for u in numpy_calls(key, stats, ops)]
    unseen = [op for op in source_ops(func, ops) if op not in named]
    if not unseen or key not in stats:
        return []
    calls, own = int(stats[key][1]), float(stats[key][2])
    return [NativeUse(op, calls, own / len(unseen)) for op in unseen]


def router_seconds(router: object) -> GpuSeconds:
    """Predicted CuPy seconds per call from the router's cost model (moves included)."""
    from workbench.route.kinds import Backend

    def predict(func: types.FunctionType, op: str, size: int, residency: str) -> float | None:
        explained = router.recommend(op, size, residency=residency)  # type: ignore[attr-defined]
        if Backend.CUPY in explained.excluded:
            return None
        prediction = explained.predictions.get(Backend.CUPY)
        return None if prediction is None else float(prediction.total_s)

    return predict


def gpu_seconds(router: object, gate: GpuSeconds | None = None) -> GpuSeconds:
    """The GPU side of every offload prediction: the gate where it answers, else the
    router's cost model. (A per-function gate of measured experts is passed as `gate`.)"""
    model = router_seconds(router)
    if gate is None:
        return model

    def predict(func: types.FunctionType, op: str, size: int, residency: str) -> float | None:
        answer = gate(func, op, size, residency)
        return answer if answer is not None else model(func, op, size, residency)

    return predict


def offload_savings(
    func: types.FunctionType, uses: list[NativeUse], size: int, seconds: GpuSeconds
) -> tuple[float, float, str] | None:
    """(saving with copies each call, saving with the data on the GPU, evidence), or None
    when no op could be predicted."""
    low = high = 0.0
    parts = []
    for use in uses:
        copied = seconds(func, use.op, size, "host")
        resident = seconds(func, use.op, size, "device")
        if copied is None and resident is None:
            continue
        per_call = use.host_s / use.calls if use.calls else 0.0
        if copied is not None:
            low += use.calls * (per_call - copied)
        if resident is not None:
            high += use.calls * (per_call - resident)
        gpu = ", ".join(
            f"{label} {value * 1e6:.0f} us"
            for label, value in (("copied", copied), ("on the GPU", resident))
            if value is not None
        )
        parts.append(f"{use.op} {use.calls:,}x: NumPy {per_call * 1e6:.0f} us per call, CuPy {gpu}")
    if not parts:
        return None
    return low, max(high, low), "; ".join(parts)
