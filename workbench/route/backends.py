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
from workbench.route.kinds import Backend, Location
from workbench.route.ops import OpSpec

# One operand as the router saw it: (shape, dtype) for arrays, (shape, "list") for nested
# lists, ((), int|float|bool|complex) for Python numbers.
Desc = tuple[sh.Shape, Any]
_WEAK = (int, float, bool, complex)


class Unsupported(RouteError):
    """This backend cannot compute this call exactly; the router moves to the next one."""


def list_shape(obj: list[Any] | tuple[Any, ...]) -> sh.Shape:
    """The shape of a nested list, read along its first elements."""
    if not obj or type(obj[0]) in _NUMBER_TYPES:
        return (len(obj),)
    shape = []
    item: Any = obj
    while isinstance(item, (list, tuple)):
        shape.append(len(item))
        if not item:
            break
        item = item[0]
    return tuple(shape)


_HOST, _DEVICE, _PYTHON = Location.HOST.value, Location.DEVICE.value, Location.PYTHON.value
# Enum members as plain module constants: attribute access on an Enum class is slow, and
# these are read on every call.
AT_HOST, AT_DEVICE, AT_PYTHON = Location.HOST, Location.DEVICE, Location.PYTHON
_NDARRAY = np.ndarray
_NUMBER_TYPES = frozenset({float, int, bool, complex})
_LISTS = (list, tuple)


def describe(arrays: Sequence[Any]) -> tuple[str, tuple[Desc, ...]]:
    """Where the operands live (a Location value) and their shapes and dtypes.

    RouteError when NumPy (or list) and CuPy operands are mixed, or an operand is of a
    type the router does not take. Written for speed: it runs on every call."""
    if len(arrays) == 2:
        a, b = arrays
        if type(a) is _NDARRAY and type(b) is _NDARRAY:
            return _HOST, ((a.shape, a.dtype), (b.shape, b.dtype))
        if type(a) is list and type(b) is list:
            return _PYTHON, ((list_shape(a), "list"), (list_shape(b), "list"))
    elif len(arrays) == 1 and type(arrays[0]) is _NDARRAY:
        return _HOST, ((arrays[0].shape, arrays[0].dtype),)
    where = ""
    numpy_scalar = False
    desc: list[Desc] = []
    for a in arrays:
        t = type(a)
        if t is np.ndarray:
            here = _HOST
            desc.append((a.shape, a.dtype))
        elif t is float or t is int or t is bool or t is complex:
            desc.append(((), t))
            continue
        elif t is list or t is tuple:
            here = _PYTHON
            desc.append((list_shape(a), "list"))
        elif isinstance(a, np.generic):  # a NumPy scalar goes along with either side
            desc.append(((), a.dtype))
            numpy_scalar = True
            continue
        elif isinstance(a, np.ndarray):
            here = _HOST
            desc.append((a.shape, a.dtype))
        elif gpu.is_device_type(t):
            here = _DEVICE
            desc.append((tuple(a.shape), a.dtype))
        else:
            raise RouteError(
                f"operand {len(desc)} is a {t.__module__}.{t.__qualname__}: the router takes NumPy "
                "arrays, CuPy arrays, (nested) lists and numbers; convert it first"
            )
        if where == here or not where:
            where = here
        elif _DEVICE in (where, here):
            raise RouteError(
                "NumPy (or list) and CuPy operands are mixed in one call: move them to one side "
                "first (cupy.asarray(x) to the GPU, cupy.asnumpy(x) to the host)"
            )
        else:
            where = _HOST  # lists with NumPy arrays: NumPy converts the lists
    if numpy_scalar and where in ("", _PYTHON):
        where = _HOST  # NumPy scalars with lists or numbers: NumPy results
    return where or _PYTHON, tuple(desc)


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
    ) -> Any:
        """Compute with Python numbers; Unsupported when that cannot match NumPy exactly."""
        if (
            placement is Location.PYTHON
            and residency is Location.PYTHON
            and spec.name in pyops.FLOAT_CLOSED
        ):
            fast = _float_lists(arrays)
            if fast is not None:
                assert spec.python_fn is not None
                flat, shape = spec.python_fn(fast, params, True)
                return flat if shape else flat[0]
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
            operands = [
                (
                    flat
                    if d is float or (not isinstance(d, type) and d.kind == "f")
                    else list(map(float, flat)),
                    shape,
                )
                for (flat, shape), d in zip(operands, dtypes, strict=False)
            ]
        assert spec.python_fn is not None
        flat, shape = spec.python_fn(operands, params, floaty)
        return place_python_result(flat, shape, out_dtype, placement, cp)


def _float_lists(arrays: Sequence[Any]) -> list[pyops.PyArray] | None:
    """The operands as 1-D float arrays when all are non-empty flat lists of floats (or
    float scalars); None otherwise."""
    out: list[pyops.PyArray] = []
    for a in arrays:
        t = type(a)
        if t is float:
            out.append(([a], ()))
        elif t is list and a and set(map(type, a)) == _FLOATS:
            out.append((a, (len(a),)))
        else:
            return None
    return out


def place_python_result(
    flat: list[Any],
    shape: sh.Shape,
    dtype: np.dtype[Any],
    placement: Location,
    cp: ModuleType | None,
) -> Any:
    """A pure-Python result where the caller wants it, in NumPy's dtype."""
    if placement is Location.PYTHON:
        return nest(pyops.cast_flat(flat, dtype), shape)
    values = pyops.cast_flat(flat, dtype) if dtype.kind in "iub" else flat
    if not shape:
        with np.errstate(over="ignore"):
            scalar = dtype.type(values[0])
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


def _host_result(r: Any, placement: Location, cp: ModuleType | None) -> Any:
    if placement is AT_HOST:
        if type(r) is np.ndarray and r.ndim == 0:
            return r[()]
        return r
    if placement is AT_PYTHON:
        return r.tolist() if hasattr(r, "tolist") else r
    return gpu_to_device(cp, r)


def run_numpy(
    spec: OpSpec,
    arrays: Sequence[Any],
    params: sh.Params,
    residency: Location,
    placement: Location,
    cp: ModuleType | None,
) -> Any:
    """The op through NumPy, copying CuPy operands to the host first."""
    if residency is AT_DEVICE:
        arrays = [gpu_to_host(cp, a) if gpu.is_device_type(type(a)) else a for a in arrays]
    assert spec.array_fn is not None
    return _host_result(spec.array_fn(np, arrays, params), placement, cp)


def run_cupy(
    spec: OpSpec,
    arrays: Sequence[Any],
    params: sh.Params,
    residency: Location,
    placement: Location,
    cp: ModuleType | None,
    mover: Mover | None = None,
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
        return host[()] if host.ndim == 0 else host
    return host.tolist()


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
