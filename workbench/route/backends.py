"""Run an op on one backend, from wherever its inputs live to where the caller wants the result.

Inputs are NumPy arrays or scalars (host), CuPy arrays (device), or nested lists and
Python numbers. Results go to `placement`: NumPy arrays (host; a NumPy scalar for 0-d
results), CuPy arrays (device) or Python lists and numbers (python). CuPy is reached only
through :mod:`workbench.gpu`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

import numpy as np

from workbench import gpu
from workbench.errors import RouteError
from workbench.gpu.pinned import Mover
from workbench.route import pyops
from workbench.route import shapes as sh
from workbench.route.idioms import Unsupported
from workbench.route.kinds import Backend, Location
from workbench.route.operands import Desc, describe, list_shape
from workbench.route.ops import OpSpec

__all__ = [
    "Desc",
    "PythonBackend",
    "Unsupported",
    "describe",
    "flatten_list",
    "list_shape",
    "run_cupy",
    "run_numpy",
]

_WEAK = (int, float, bool, complex)
_NUMBER_TYPES = frozenset({float, int, bool, complex})
_LISTS = (list, tuple)
_NDARRAY = np.ndarray
AT_HOST, AT_DEVICE, AT_PYTHON = Location.HOST, Location.DEVICE, Location.PYTHON
# NumPy gives these ops' 0-d results as 0-d arrays (views, tensordot); the others as scalars.
ZERO_D_ARRAYS = frozenset({"reshape", "transpose", "tensordot"})


def flatten_list(obj: list[Any] | tuple[Any, ...]) -> tuple[list[Any], sh.Shape, np.dtype[Any]]:
    """A nested list as a flat list, its shape and the dtype NumPy would give it."""
    shape = list_shape(obj)
    if len(shape) == 1:
        flat = list(obj)
    else:
        flat = []
        _walk(obj, shape, 0, flat)
    types = set(map(type, flat))
    if types <= _FLOATS:
        return flat, shape, _FLOAT64
    if not types <= _NUMBERS:
        if types & {list, tuple}:
            raise RouteError("a nested list is ragged: rows must all have the same length")
        names = ", ".join(sorted(t.__name__ for t in types - _NUMBERS))
        raise Unsupported(f"the pure-Python kernels take lists of int, float and bool, not {names}")
    if float in types:
        return flat, shape, _FLOAT64
    if int in types:
        if min(flat) < -(2**63) or max(flat) >= 2**63:
            raise Unsupported("integers beyond the int64 range")
        return flat, shape, _INT64
    return flat, shape, _BOOL


def _walk(item: Any, shape: sh.Shape, depth: int, flat: list[Any]) -> None:
    if not isinstance(item, (list, tuple)) or len(item) != shape[depth]:
        raise RouteError(
            f"a nested list is ragged (expected length {shape[depth]} at depth {depth}): "
            "rows must all have the same length"
        )
    if depth == len(shape) - 1:
        flat.extend(item)
    else:
        for sub in item:
            _walk(sub, shape, depth + 1, flat)


_FLOATS = frozenset({float})
_NUMBERS = frozenset({int, float, bool})
_FLOAT64 = np.dtype(np.float64)
_INT64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)


def nest(flat: list[Any], shape: sh.Shape) -> Any:
    """A flat row-major list as nested lists of `shape` (a number for shape ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = sh.size_of(shape[1:])
    return [nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


class PythonBackend:
    """Pure-Python kernels, with results cast to the dtype NumPy would give."""

    backend = Backend.PYTHON

    def __init__(self) -> None:
        self._dtypes: dict[tuple[Any, ...], np.dtype[Any]] = {}

    def result_dtype(
        self,
        spec: OpSpec,
        operands: Sequence[pyops.PyArray],
        dtypes: Sequence[Any],
        params: sh.Params,
    ) -> np.dtype[Any]:
        """NumPy's result dtype for these operand dtypes, from the op run on tiny arrays
        (cached per dtypes and ranks). Raises exactly what NumPy raises for operand types
        it refuses. Python ints are weak (NEP 50): their value can matter, so no cache."""
        key = (spec.name, tuple(dtypes), tuple(len(s) for _, s in operands), spec.param_key(params))
        cached = self._dtypes.get(key)
        if cached is not None:
            return cached
        probes = [
            flat[0] if isinstance(d, type) else np.ones((1,) * len(shape), d)
            for (flat, shape), d in zip(operands, dtypes, strict=False)
        ]
        if spec.same_dtype:
            dtype = np.asarray(probes[0]).dtype
        else:
            assert spec.array_fn is not None
            with np.errstate(all="ignore"):  # probes of ones: 0/0 in a scaler is not news
                dtype = np.asarray(spec.array_fn(np, probes, params)).dtype
        if int not in dtypes:
            self._dtypes[key] = dtype
        return dtype

    def run(
        self,
        spec: OpSpec,
        arrays: Sequence[Any],
        params: sh.Params,
        residency: Location,
        placement: Location,
        cp: ModuleType | None,
        like: type = list,
    ) -> Any:
        """Compute with Python numbers (the general kernels: any shape, broadcasting,
        axes); Unsupported when that cannot match NumPy exactly. Lists come back as
        lists, or as tuples when `like` is tuple."""
        operands: list[pyops.PyArray] = []
        dtypes: list[Any] = []  # np.dtype, or int/float/bool for Python numbers
        floaty = False
        for a in arrays:
            t = type(a)
            if t is float or t is int or t is bool:
                operands.append(([a], ()))
                dtypes.append(t)
                floaty |= t is float
                continue
            if t is list or t is tuple:
                flat, shape, dtype = flatten_list(a)
            elif t is complex:
                raise Unsupported("the pure-Python kernels do not take complex numbers")
            else:
                host = np.asarray(gpu_to_host(cp, a) if gpu.is_device_type(t) else a)
                dtype, shape = host.dtype, host.shape
                if dtype.kind not in pyops.PYTHON_KINDS:
                    raise Unsupported(f"the pure-Python kernels do not handle dtype {dtype}")
                flat = host.ravel().tolist()
            operands.append((flat, shape))
            dtypes.append(dtype)
            floaty |= dtype.kind == "f"
        if spec.name in pyops.LIMITED:
            limit = pyops.python_limits(spec.name, [s for _, s in operands], params)
            if limit:
                raise Unsupported(limit)
        out_dtype = self.result_dtype(spec, operands, dtypes, params)
        if out_dtype.kind not in pyops.PYTHON_KINDS:
            raise Unsupported(
                f"the result dtype {out_dtype} is not one the pure-Python kernels make"
            )
        if out_dtype.kind == "f":
            floaty = True
            narrow = out_dtype.itemsize < 8
            operands = [
                (
                    # a Python number takes the array's precision first, as in NumPy (NEP 50)
                    [float(out_dtype.type(flat[0]))]
                    if isinstance(d, type) and narrow
                    else flat
                    if d is float or (not isinstance(d, type) and d.kind == "f")
                    else list(map(float, flat)),
                    shape,
                )
                for (flat, shape), d in zip(operands, dtypes, strict=False)
            ]
        assert spec.python_fn is not None
        flat, shape = spec.python_fn(operands, params, floaty)
        result = place_python_result(flat, shape, out_dtype, placement, cp, spec.name)
        return tuples(result) if like is tuple and placement is AT_PYTHON else result


def tuples(value: Any) -> Any:
    """Nested lists as nested tuples (tuples in, tuples out)."""
    if type(value) is list:
        return tuple(tuples(v) for v in value) if value and type(value[0]) is list else tuple(value)
    return value


def place_python_result(
    flat: list[Any],
    shape: sh.Shape,
    dtype: np.dtype[Any],
    placement: Location,
    cp: ModuleType | None,
    op: str = "",
) -> Any:
    """A pure-Python result where the caller wants it, in NumPy's dtype (a 0-d result as
    NumPy gives it: a 0-d array for views and tensordot, a NumPy scalar otherwise)."""
    if placement is Location.PYTHON:
        return nest(pyops.cast_flat(flat, dtype), shape)
    values = pyops.cast_flat(flat, dtype) if dtype.kind in "iub" else flat
    if not shape:
        with np.errstate(over="ignore"):
            scalar = dtype.type(values[0])
        if op in ZERO_D_ARRAYS:
            scalar = np.asarray(scalar)
        return scalar if placement is Location.HOST else gpu_to_device(cp, np.asarray(scalar))
    with np.errstate(over="ignore"):
        host = np.asarray(values, dtype=dtype).reshape(shape)
    return host if placement is Location.HOST else gpu_to_device(cp, host)


def gpu_to_host(cp: ModuleType | None, a: Any) -> Any:
    """A CuPy array copied to a NumPy array."""
    if cp is None:
        raise RouteError("a CuPy operand was given but CuPy is not usable here")
    return cp.asnumpy(a)


def gpu_to_device(cp: ModuleType | None, a: Any) -> Any:
    """A NumPy array (or list) copied to a CuPy array."""
    if cp is None:
        raise RouteError("the result was asked for on the GPU but CuPy is not usable here")
    return cp.asarray(a)


def _host_result(r: Any, placement: Location, cp: ModuleType | None, like: type) -> Any:
    if placement is AT_HOST:
        return r  # exactly what NumPy gave: its scalars, 0-d arrays and subclasses
    if placement is AT_PYTHON:
        out = r.tolist() if hasattr(r, "tolist") else r
        return tuples(out) if like is tuple else out
    return gpu_to_device(cp, r)


def run_numpy(
    spec: OpSpec,
    arrays: Sequence[Any],
    params: sh.Params,
    residency: Location,
    placement: Location,
    cp: ModuleType | None,
    like: type = list,
) -> Any:
    """The op through NumPy, copying CuPy operands to the host first. Lists are made
    arrays with np.asarray and the op called as a user writes it (an operator or an
    array method) where it has that form."""
    if residency is AT_DEVICE:
        arrays = [gpu_to_host(cp, a) if gpu.is_device_type(type(a)) else a for a in arrays]
    elif residency is AT_PYTHON and spec.host_fn is not None and _lists_and_numbers(arrays):
        operands = [np.asarray(a) if type(a) in _LISTS else a for a in arrays]
        if type(operands[0]) is _NDARRAY:
            extra = [params[name] for name, _ in spec.params]
            return _host_result(spec.host_fn(*operands, *extra), placement, cp, like)
    assert spec.array_fn is not None
    return _host_result(spec.array_fn(np, arrays, params), placement, cp, like)


def _lists_and_numbers(arrays: Sequence[Any]) -> bool:
    return all(type(a) in _LISTS or type(a) in _NUMBER_TYPES for a in arrays)


def run_cupy(
    spec: OpSpec,
    arrays: Sequence[Any],
    params: sh.Params,
    residency: Location,
    placement: Location,
    cp: ModuleType | None,
    mover: Mover | None = None,
    like: type = list,
) -> Any:
    """The op through CuPy, copying host operands to the device first (through `mover`
    when given: pinned staging where calibration found it faster)."""
    if cp is None:
        raise RouteError("CuPy is not usable here")
    if residency is not AT_DEVICE:
        upload = cp.asarray if mover is None else mover.to_device
        arrays = [a if type(a) in _WEAK else upload(a) for a in arrays]
    assert spec.array_fn is not None
    r = spec.array_fn(cp, arrays, params)
    if placement is AT_DEVICE:
        return r
    host = cp.asnumpy(r) if mover is None else mover.to_host(r)
    canonical = np.dtype(host.dtype.str)  # CuPy can hand back int64 as 'q', NumPy's is 'l'
    if host.dtype is not canonical and host.dtype == canonical:
        host = host.view(canonical)
    if placement is AT_HOST:
        return host[()] if host.ndim == 0 and spec.name not in ZERO_D_ARRAYS else host
    out = host.tolist()
    return tuples(out) if like is tuple else out


def on_device(
    cp: ModuleType | None, device: int, arrays: Sequence[Any], residency: Location
) -> AbstractContextManager[Any]:
    """The GPU a CuPy call runs on: where device-resident operands live, else `device`."""
    if cp is None:
        raise RouteError("CuPy is not usable here")
    if residency is AT_DEVICE:
        for a in arrays:
            if gpu.is_device_type(type(a)):
                return cp.cuda.Device(a.device.id)  # type: ignore[no-any-return]
    return cp.cuda.Device(device)  # type: ignore[no-any-return]
