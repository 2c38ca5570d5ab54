"""GPU time per device and per source line, measured on the device, not as host time.

A separate pass (it re-runs the code, so only when asked). The cProfile pass shows
which of the user's functions call into a GPU package ("launchers"). In this pass
every source line those functions execute is bracketed by CUDA events on the current
stream, and the device is synchronised before the next line starts, so the device work
a line launches (ufuncs, operators, kernels, copies) is charged to that line and not to
whichever later call happened to wait. Host<->device copies are timed with events
around ``cupy.asarray``/``cupy.array`` of a NumPy array (host to device) and
``cupy.asnumpy`` (device to host), with their bytes; ``ndarray.get()`` is a C method
whose array the hook cannot see, so its time is in its line but its bytes are not
counted. The device span (events around the whole pass) bounds everything.
"""

from __future__ import annotations

import os
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench.errors import ProfileError
from workbench.gpu import cupy_or_none, probe
from workbench.profiling.capture import FuncKey, Step, describe_error, run_steps

DEVICE_COLUMNS = [
    "device",
    "name",
    "lines_timed",
    "device_s",
    "span_s",
    "h2d_calls",
    "h2d_bytes",
    "h2d_s",
    "d2h_calls",
    "d2h_bytes",
    "d2h_s",
]
LINE_COLUMNS = ["function", "file", "line", "device", "runs", "device_s", "host_s"]
_H2D = {"asarray", "array", "asanyarray", "ascontiguousarray"}
_D2H = {"asnumpy"}
_TEXT = {"name", "function", "file"}


@dataclass(frozen=True)
class GpuPass:
    """Per-device and per-line GPU time from one bracketed pass."""

    status: str
    devices: pd.DataFrame = field(default_factory=lambda: _empty(DEVICE_COLUMNS))
    lines: pd.DataFrame = field(default_factory=lambda: _empty(LINE_COLUMNS))
    gpu_calls: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def measured(self) -> bool:
        """True when device time was measured."""
        return not self.devices.empty


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="object" if c in _TEXT else "float64") for c in columns}
    )


def unavailable_reason() -> str | None:
    """Why GPU time cannot be measured here, or None when it can."""
    status = probe()
    return None if status.available else status.reason


@dataclass
class _Totals:
    lines: int = 0
    device_s: float = 0.0
    h2d: list[float] = field(default_factory=lambda: [0, 0, 0.0])  # calls, bytes, seconds
    d2h: list[float] = field(default_factory=lambda: [0, 0, 0.0])


class _LineTimer:
    """A sys.settrace hook: CUDA events around every line of the launcher functions."""

    def __init__(self, cp: Any, launchers: set[FuncKey], candidates: set[FuncKey]) -> None:
        self.cp = cp
        self.launchers = launchers
        self.candidates = candidates - launchers
        self.root = os.path.dirname(str(cp.__file__)) + os.sep
        self.segment: tuple[Any, float, int, tuple[str, int, str]] | None = None
        self.per_device: dict[int, _Totals] = {}
        self.per_line: dict[tuple[str, int, str, int], list[float]] = {}

    def _event(self) -> tuple[Any, int]:
        cp = self.cp
        event = cp.cuda.Event()
        event.record(cp.cuda.get_current_stream())
        return event, int(cp.cuda.runtime.getDevice())

    def _finish(self, start: Any) -> float:
        end, _device = self._event()
        end.synchronize()
        return float(self.cp.cuda.get_elapsed_time(start, end)) / 1e3

    def close(self) -> None:
        """End the open line segment, charging its device time to its line."""
        if self.segment is None:
            return
        start, host_start, device, (path, line, name) = self.segment
        self.segment = None
        device_s = self._finish(start)
        totals = self.per_device.setdefault(device, _Totals())
        totals.lines += 1
        totals.device_s += device_s
        stat = self.per_line.setdefault((path, line, name, device), [0, 0.0, 0.0])
        stat[0] += 1
        stat[1] += device_s
        stat[2] += time.perf_counter() - host_start

    def _open(self, frame: types.FrameType) -> None:
        start, device = self._event()
        code = frame.f_code
        self.segment = (
            start,
            time.perf_counter(),
            device,
            (code.co_filename, frame.f_lineno, code.co_name),
        )

    def _line_tracer(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.close()
            self._open(frame)
        elif event == "return":
            self.close()
        return self._line_tracer

    def _copy_tracer(self, kind: str, nbytes: int) -> Any:
        start, device = self._event()

        def tracer(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event == "return":
                seconds = self._finish(start)
                record = getattr(self.per_device.setdefault(device, _Totals()), kind)
                record[0] += 1
                record[1] += nbytes
                record[2] += seconds
                return None
            return tracer

        return tracer

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event != "call":
            return None
        code = frame.f_code
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        if key in self.launchers:
            return self._line_tracer
        if key in self.candidates and any(_is_gpu_value(v) for v in frame.f_locals.values()):
            return self._line_tracer  # called with device arrays: operators launch work
        if code.co_filename.startswith(self.root):
            name = code.co_name
            if name in _H2D or name in _D2H:
                values = list(frame.f_locals.values())
                first = values[0] if values else None
                nbytes = int(getattr(first, "nbytes", 0) or 0)
                if name in _H2D and type(first).__module__ == "numpy":
                    return self._copy_tracer("h2d", nbytes)
                if name in _D2H and nbytes:
                    return self._copy_tracer("d2h", nbytes)
        return None


def _is_gpu_value(value: object) -> bool:
    if isinstance(value, types.ModuleType):
        return value.__name__.split(".")[0] in ("cupy", "cupyx")
    module = getattr(type(value), "__module__", "") or ""
    return module.split(".")[0] in ("cupy", "cupyx")


def _codes(code: types.CodeType) -> list[types.CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_codes(const))
    return found


def _uses_gpu(code: types.CodeType, globals_: dict[str, Any]) -> bool:
    return any(_is_gpu_value(globals_.get(name)) for name in code.co_names)


def launchers_of(
    stats: dict[FuncKey, Any],
    category_of: dict[FuncKey, str],
    roots: Sequence[Step],
    namespace: dict[str, Any],
) -> tuple[set[FuncKey], set[FuncKey]]:
    """The user's code that launches GPU work, and the rest of the user's code.

    Launchers: functions that call into a GPU package (from the cProfile pass) and code
    whose global names refer to CuPy (ufuncs and operators on device arrays are calls
    cProfile cannot see). The rest is checked during the pass: a call that receives a
    device array is timed too."""
    from workbench.profiling.lines import index_functions

    found: set[FuncKey] = set()
    for key, value in stats.items():
        if category_of.get(key) == "GPU":
            for caller in value[4]:
                if caller[0] != "~" and category_of.get(caller) not in (None, "GPU"):
                    found.add(caller)
    own = [
        key
        for key, category in category_of.items()
        if key[0] != "~"
        and category not in ("GPU", "stdlib", "native")
        and not category.startswith("library:")
    ]
    holders = index_functions({key[0] for key in own}, namespace)
    codes: dict[FuncKey, tuple[types.CodeType, dict[str, Any]]] = {}
    for func in set(holders.values()):
        for code in _codes(func.__code__):
            codes[(code.co_filename, code.co_firstlineno, code.co_name)] = (code, func.__globals__)
    for step in roots:
        if isinstance(step, types.FunctionType):
            for code in _codes(step.__code__):
                codes[(code.co_filename, code.co_firstlineno, code.co_name)] = (
                    code,
                    step.__globals__,
                )
    for key in own:
        entry = codes.get(key)
        if entry is not None and _uses_gpu(*entry):
            found.add(key)
    return found, set(own)


def run_gpu_pass(
    steps: Sequence[Step],
    launchers: set[FuncKey],
    candidates: set[FuncKey] | None = None,
    gpu_calls: int = 0,
) -> tuple[GpuPass, BaseException | None]:
    """Re-run `steps`, timing every line of the launcher functions on its device."""
    reason = unavailable_reason()
    if reason is not None:
        return GpuPass(f"GPU time not measured: {reason}"), None
    candidates = candidates or set()
    if not launchers and not candidates:
        return GpuPass("the code made no GPU calls, so there was no GPU time to measure"), None
    cp = cupy_or_none()
    if cp is None:
        return GpuPass("GPU time not measured: CuPy could not be imported"), None
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise ProfileError("another profiler or tracer is active: the GPU pass needs it stopped")
    count = int(cp.cuda.runtime.getDeviceCount())
    starts = []
    for index in range(count):
        with cp.cuda.Device(index):
            cp.cuda.Device(index).synchronize()
            event = cp.cuda.Event()
            event.record(cp.cuda.get_current_stream())
            starts.append(event)
    timer = _LineTimer(cp, launchers, candidates)
    start = time.perf_counter()
    sys.settrace(timer)
    try:
        error = run_steps(steps)
    finally:
        sys.settrace(None)
        timer.close()
    spans = []
    for index in range(count):
        with cp.cuda.Device(index):
            end = cp.cuda.Event()
            end.record(cp.cuda.get_current_stream())
            end.synchronize()
            spans.append(float(cp.cuda.get_elapsed_time(starts[index], end)) / 1e3)
    seconds = time.perf_counter() - start
    names = probe().devices
    rows = []
    for index in range(count):
        t = timer.per_device.get(index, _Totals())
        rows.append(
            (
                index,
                names[index] if index < len(names) else "?",
                t.lines,
                t.device_s,
                spans[index],
                int(t.h2d[0]),
                int(t.h2d[1]),
                t.h2d[2],
                int(t.d2h[0]),
                int(t.d2h[1]),
                t.d2h[2],
            )
        )
    lines = pd.DataFrame.from_records(
        [
            (name, path, line, device, int(s[0]), s[1], s[2])
            for (path, line, name, device), s in timer.per_line.items()
        ],
        columns=LINE_COLUMNS,
    )
    lines = lines.sort_values(["device_s", "line"], ascending=[False, True]).reset_index(drop=True)
    status = (
        f"GPU time measured on {count} device(s) with CUDA events around each line of the "
        f"code that launches GPU work ({len(timer.per_line)} lines timed); {gpu_calls:,} "
        "GPU-package calls in the cProfile pass"
    )
    described = describe_error(error)
    return GpuPass(
        status,
        pd.DataFrame.from_records(rows, columns=DEVICE_COLUMNS),
        lines,
        gpu_calls,
        seconds,
        described,
    ), error
