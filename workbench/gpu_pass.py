"""GPU time per device, measured on the device, not as host time.

A separate pass (it re-runs the code, so only when asked) brackets every call that
enters CuPy from outside it with CUDA events on the current stream and synchronises
at its end, so each call's device work is charged to that call and not to whichever
later call happened to wait. Host<->device copies are counted where the call shows
them: ``cupy.asarray``/``cupy.array`` of a NumPy array, ``ndarray.set``, ``ndarray.get``
and ``cupy.asnumpy``. Kernels launched by operators (``a + b``) are not calls Python
reports; their device time shows in the per-device span, measured with events around
the whole pass.
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

from workbench.capture import Step
from workbench.errors import ProfileError
from workbench.gpu import cupy_or_none, probe

DEVICE_COLUMNS = [
    "device",
    "name",
    "gpu_calls",
    "device_s",
    "span_s",
    "h2d_bytes",
    "h2d_s",
    "d2h_bytes",
    "d2h_s",
]
CALL_COLUMNS = ["function", "device", "calls", "device_s", "host_s"]
_H2D = {"asarray", "array", "asanyarray", "ascontiguousarray"}
_D2H = {"asnumpy"}


@dataclass
class GpuPass:
    """Per-device and per-function GPU time from one bracketed pass."""

    status: str
    devices: pd.DataFrame = field(default_factory=lambda: _empty(DEVICE_COLUMNS))
    calls: pd.DataFrame = field(default_factory=lambda: _empty(CALL_COLUMNS))
    seconds: float = 0.0
    error: str | None = None

    @property
    def measured(self) -> bool:
        """True when device time was measured."""
        return not self.devices.empty


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="object" if c in ("name", "function") else "float64") for c in columns}
    )


def unavailable_reason() -> str | None:
    """Why GPU time cannot be measured here, or None when it can."""
    status = probe()
    return None if status.available else status.reason


@dataclass
class _Open:
    device: int
    start: Any
    host_start: float
    label: str
    h2d: int
    d2h: int


@dataclass
class _Totals:
    calls: int = 0
    device_s: float = 0.0
    h2d_bytes: int = 0
    h2d_s: float = 0.0
    d2h_bytes: int = 0
    d2h_s: float = 0.0


class _Bracketer:
    """A sys.setprofile hook that times the outermost CuPy calls with CUDA events."""

    def __init__(self, cp: Any) -> None:
        self.cp = cp
        roots = {os.path.dirname(str(cp.__file__))}
        for name in ("cupyx", "cupy_backends"):
            module = sys.modules.get(name)
            if module is not None and getattr(module, "__file__", None):
                roots.add(os.path.dirname(str(module.__file__)))
        self.roots = tuple(root + os.sep for root in roots)
        self.code_is_gpu: dict[types.CodeType, bool] = {}
        self.depth = 0
        self.in_c: Any = None
        self.open: _Open | None = None
        self.per_device: dict[int, _Totals] = {}
        self.per_call: dict[tuple[str, int], list[float]] = {}

    def _is_gpu_code(self, code: types.CodeType) -> bool:
        known = self.code_is_gpu.get(code)
        if known is None:
            known = code.co_filename.startswith(self.roots)
            self.code_is_gpu[code] = known
        return known

    @staticmethod
    def _is_gpu_builtin(fn: Any) -> bool:
        owner = getattr(fn, "__self__", None)
        module = getattr(fn, "__module__", None) or type(owner).__module__
        return isinstance(module, str) and module.startswith(("cupy", "cupyx", "cupy_backends"))

    def _enter(self, label: str, h2d: int, d2h: int) -> None:
        cp = self.cp
        device = int(cp.cuda.runtime.getDevice())
        start = cp.cuda.Event()
        start.record(cp.cuda.get_current_stream())
        self.open = _Open(device, start, time.perf_counter(), label, h2d, d2h)

    def _leave(self) -> None:
        entry = self.open
        if entry is None:
            return
        self.open = None
        cp = self.cp
        end = cp.cuda.Event()
        end.record(cp.cuda.get_current_stream())
        end.synchronize()
        device_s = cp.cuda.get_elapsed_time(entry.start, end) / 1e3
        host_s = time.perf_counter() - entry.host_start
        totals = self.per_device.setdefault(entry.device, _Totals())
        totals.calls += 1
        totals.device_s += device_s
        if entry.h2d:
            totals.h2d_bytes += entry.h2d
            totals.h2d_s += device_s
        if entry.d2h:
            totals.d2h_bytes += entry.d2h
            totals.d2h_s += device_s
        stat = self.per_call.setdefault((entry.label, entry.device), [0, 0.0, 0.0])
        stat[0] += 1
        stat[1] += device_s
        stat[2] += host_s

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if self.in_c is not None:
            if event in ("c_return", "c_exception") and arg is self.in_c:
                self.in_c = None
                self._leave()
            return
        if event == "call":
            if not self._is_gpu_code(frame.f_code):
                return
            if self.depth == 0:
                self._enter_python(frame)
            self.depth += 1
        elif event == "return":
            if self.depth and self._is_gpu_code(frame.f_code):
                self.depth -= 1
                if self.depth == 0:
                    self._leave()
        elif event == "c_call" and self.depth == 0 and self._is_gpu_builtin(arg):
            owner = getattr(arg, "__self__", None)
            name = getattr(arg, "__name__", "?")
            nbytes = int(getattr(owner, "nbytes", 0) or 0)
            self._enter(
                f"{type(owner).__name__}.{name}",
                nbytes if name == "set" else 0,
                nbytes if name == "get" else 0,
            )
            self.in_c = arg

    def _enter_python(self, frame: types.FrameType) -> None:
        name = frame.f_code.co_name
        values = list(frame.f_locals.values())
        first = values[0] if values else None
        nbytes = int(getattr(first, "nbytes", 0) or 0)
        h2d = nbytes if name in _H2D and type(first).__module__ == "numpy" else 0
        d2h = nbytes if name in _D2H else 0
        self._enter(f"{frame.f_globals.get('__name__', '?')}.{name}", h2d, d2h)


def run_gpu_pass(steps: Sequence[Step]) -> tuple[GpuPass, BaseException | None]:
    """Re-run `steps`, timing every outermost CuPy call on its device."""
    reason = unavailable_reason()
    if reason is not None:
        return GpuPass(f"GPU time not measured: {reason}"), None
    cp = cupy_or_none()
    if cp is None:  # the probe said yes a moment ago; keep the contract anyway
        return GpuPass("GPU time not measured: CuPy could not be imported"), None
    if sys.getprofile() is not None:
        raise ProfileError("another profiler is active: the GPU pass needs it stopped first")
    count = int(cp.cuda.runtime.getDeviceCount())
    spans = []
    for index in range(count):
        with cp.cuda.Device(index):
            cp.cuda.Device(index).synchronize()
            event = cp.cuda.Event()
            event.record(cp.cuda.get_current_stream())
            spans.append(event)
    bracketer = _Bracketer(cp)
    error: BaseException | None = None
    start = time.perf_counter()
    sys.setprofile(bracketer)
    try:
        for step in steps:
            step()
    except BaseException as exc:  # handed back to the caller unchanged
        error = exc
    finally:
        sys.setprofile(None)
        bracketer.open = None
        bracketer.in_c = None
    span_s = []
    for index in range(count):
        with cp.cuda.Device(index):
            end = cp.cuda.Event()
            end.record(cp.cuda.get_current_stream())
            end.synchronize()
            span_s.append(cp.cuda.get_elapsed_time(spans[index], end) / 1e3)
    seconds = time.perf_counter() - start
    names = probe().devices
    rows = []
    for index in range(count):
        totals = bracketer.per_device.get(index, _Totals())
        rows.append(
            (
                index,
                names[index] if index < len(names) else "?",
                totals.calls,
                totals.device_s,
                span_s[index],
                totals.h2d_bytes,
                totals.h2d_s,
                totals.d2h_bytes,
                totals.d2h_s,
            )
        )
    devices = pd.DataFrame.from_records(rows, columns=DEVICE_COLUMNS)
    calls = (
        pd.DataFrame.from_records(
            [
                (label, device, int(s[0]), s[1], s[2])
                for (label, device), s in bracketer.per_call.items()
            ],
            columns=CALL_COLUMNS,
        )
        .sort_values(["device_s", "function"], ascending=[False, True])
        .reset_index(drop=True)
    )
    used = int(devices["gpu_calls"].sum())
    status = (
        f"GPU time measured on {count} device(s): {used} GPU calls bracketed with CUDA events"
        if used
        else "the code made no GPU calls (CuPy and a GPU are available)"
    )
    described = None if error is None else f"{type(error).__name__}: {error}"
    return GpuPass(status, devices, calls, seconds, described), error
