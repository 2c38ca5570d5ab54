"""Correctness: keep what a run produced, and tell whether two runs produced the same.

Outputs are a mapping of names to values: ``{"result": value}`` for a cell's last
expression, or the named variables (``--check VAR``). :func:`freeze` snapshots them as soon
as the run ends, so a later run that mutates a shared object cannot change them. What it
returns is two things: the bytes themselves are the *stored form*, which the run store keeps
and which cannot run code when read back (see ``workbench.experiment.stored_outputs``:
JSON and pickle-free ``.npy``; large or unusual values kept as fingerprints); and, for this
process only, an exact in-memory copy, which :func:`thaw` gives back. Bytes read from a file
are only ever decoded from the stored form: a pickle from a store is refused, never loaded.

Comparison is recursive: containers element by element, floats within a tolerance
(``rtol``/``atol``, NaN equal to NaN), NumPy arrays with ``allclose``/``array_equal``,
pandas objects with pandas' own testing functions, dataclasses field by field, and other
objects through their ``__eq__``. A stored fingerprint matches only the same bytes; a stored
object matches an object of the same type whose compared fields match. Values of different
types cannot be compared: that is an :class:`~workbench.errors.ExperimentError`, not a
silent "different".
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ExperimentError
from workbench.experiment.stored_outputs import (
    MAX_STORED_BYTES,
    Fingerprint,
    StoredObject,
    decode,
    encode,
    qualified_name,
)

Outputs = dict[str, Any]
RESULT = "result"


@dataclass(frozen=True)
class Tolerance:
    """How close two floats must be to count as equal."""

    rtol: float = 1e-7
    atol: float = 0.0

    def __post_init__(self) -> None:
        if not (0 <= self.rtol < math.inf and 0 <= self.atol < math.inf):
            raise ExperimentError(
                f"tolerances must be >= 0 and finite, got rtol={self.rtol}, atol={self.atol}"
            )

    def describe(self) -> str:
        """E.g. ``rtol=1e-07, atol=0``."""
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


def collect(namespace: Mapping[str, Any], result: object, checks: Sequence[str]) -> Outputs:
    """The outputs of one run: the named variables, or the cell's result when none is named."""
    if not checks:
        return {RESULT: result}
    missing = [name for name in checks if name not in namespace]
    if missing:
        raise ExperimentError(
            f"--check names {', '.join(map(repr, missing))}, which the code did not set: "
            "check variables the cell assigns"
        )
    return {name: namespace[name] for name in checks}


class Frozen(bytes):
    """What :func:`freeze` returns: the stored form (these bytes, safe to write anywhere)
    and, in this process only, an exact copy of the values. Pickling, copying or storing it
    keeps only the bytes."""

    snapshot: bytes

    def __reduce__(self) -> tuple[type[bytes], tuple[bytes]]:
        return (bytes, (bytes(self),))


def freeze(outputs: Outputs, who: str, *, max_bytes: int | None = MAX_STORED_BYTES) -> Frozen:
    """Snapshot `outputs`, or say clearly which one cannot be kept and what to do.

    The stored form keeps values exactly up to `max_bytes` (None: no limit) and the rest
    as fingerprints."""
    for name, value in outputs.items():
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # pickle raises many types; every one means "cannot keep"
            raise ExperimentError(
                f"the {who}'s {_label(name)} (a {type(value).__name__}) cannot be pickled, so "
                f"it cannot be kept for the correctness check ({type(exc).__name__}: {exc}): "
                "make the cell end with plain data (lists, dicts, arrays, DataFrames), or "
                "name such variables with --check VAR"
            ) from None
    frozen = Frozen(encode(outputs, max_bytes=max_bytes))
    frozen.snapshot = pickle.dumps(outputs, protocol=pickle.HIGHEST_PROTOCOL)  # memory only
    return frozen


def thaw(blob: bytes) -> Outputs:
    """The outputs :func:`freeze` kept: exactly, for what freeze returned in this process;
    from the stored form (fingerprints and stored objects included) for bytes read back from
    the store. Never unpickles bytes that came from outside this process."""
    if isinstance(blob, Frozen):
        value = pickle.loads(blob.snapshot)  # written by freeze in this process, never a file
        if not isinstance(value, dict):
            raise ExperimentError("frozen outputs are not a mapping")
        return value
    return decode(blob)


def _label(name: str) -> str:
    return "result" if name == RESULT else f"variable {name!r}"


def first_difference(expected: Outputs, actual: Outputs, tol: Tolerance) -> str | None:
    """None when the outputs are equal, else where and how they first differ.

    Raises ExperimentError when the two cannot be compared (other names, other types).
    """
    if set(expected) != set(actual):
        raise ExperimentError(
            f"baseline outputs {sorted(expected)} and candidate outputs {sorted(actual)} "
            "name different things: check the same variables in both (--check)"
        )
    for name in expected:
        path = RESULT if name == RESULT else name
        difference = _compare(expected[name], actual[name], path, tol)
        if difference is not None:
            return difference
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _compare(a: Any, b: Any, path: str, tol: Tolerance) -> str | None:
    if a is b:
        return None
    if isinstance(a, Fingerprint | StoredObject) or isinstance(b, Fingerprint | StoredObject):
        return _compare_stored(a, b, path, tol)
    if _is_number(a) and _is_number(b):
        return _compare_numbers(a, b, path, tol)
    if type(a) is not type(b):
        raise ExperimentError(
            f"cannot compare {path}: the baseline's is a {type(a).__name__}, the candidate's a "
            f"{type(b).__name__}; make both return the same type, or check other variables "
            "with --check"
        )
    if isinstance(a, np.ndarray):
        return _compare_arrays(a, b, path, tol)
    if isinstance(a, pd.DataFrame | pd.Series | pd.Index):
        return _compare_pandas(a, b, path, tol)
    if isinstance(a, Mapping):
        return _compare_mappings(a, b, path, tol)
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return f"{path}: length {len(a)} in the baseline, {len(b)} in the candidate"
        for index, (left, right) in enumerate(zip(a, b, strict=True)):
            difference = _compare(left, right, f"{path}[{index}]", tol)
            if difference is not None:
                return difference
        return None
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        for item in dataclasses.fields(a):
            if not item.compare:  # e.g. a timing field the class itself leaves out of ==
                continue
            difference = _compare(
                getattr(a, item.name), getattr(b, item.name), f"{path}.{item.name}", tol
            )
            if difference is not None:
                return difference
        return None
    return _compare_by_eq(a, b, path, tol)


def _compare_stored(a: Any, b: Any, path: str, tol: Tolerance) -> str | None:
    """A value recorded in the store (a fingerprint or a stored object) against another."""
    if isinstance(b, Fingerprint) and not isinstance(a, Fingerprint):
        a, b = b, a
    if isinstance(a, Fingerprint):
        other = b.digest if isinstance(b, Fingerprint) else None
        if a.digest == other or (other is None and a.matches(b)):
            return None
        return (
            f"{path}: not the same bytes as recorded (only a fingerprint of the {a.summary} "
            "was stored, so where and by how much it differs is unknown, and floats within "
            "the tolerance count as different)"
        )
    stored, live = (a, b) if isinstance(a, StoredObject) else (b, a)
    if isinstance(live, StoredObject):
        live_type, live_fields = live.type_name, live.fields
    else:
        live_type = qualified_name(type(live))
        if dataclasses.is_dataclass(live) and not isinstance(live, type):
            live_fields = {
                f.name: getattr(live, f.name) for f in dataclasses.fields(live) if f.compare
            }
        else:
            live_fields = dict(getattr(live, "__dict__", {}))
    if stored.type_name != live_type:
        return f"{path}: a {stored.type_name} was recorded, now a {live_type}"
    return _compare_mappings(stored.fields, live_fields, path, tol)


def _compare_numbers(a: Any, b: Any, path: str, tol: Tolerance) -> str | None:
    if isinstance(a, numbers.Integral) and isinstance(b, numbers.Integral):
        return (
            None if int(a) == int(b) else f"{path}: {a!r} in the baseline, {b!r} in the candidate"
        )
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        x, y = float(a), float(b)
        if (math.isnan(x) and math.isnan(y)) or math.isclose(
            x, y, rel_tol=tol.rtol, abs_tol=tol.atol
        ):
            return None
        return f"{path}: {a!r} in the baseline, {b!r} in the candidate ({tol.describe()})"
    if isinstance(a, numbers.Complex) and isinstance(b, numbers.Complex):
        u, v = complex(a), complex(b)
        parts_equal = all(
            (math.isnan(p) and math.isnan(q))
            or math.isclose(p, q, rel_tol=tol.rtol, abs_tol=tol.atol)
            for p, q in ((u.real, v.real), (u.imag, v.imag))
        )
        if parts_equal:
            return None
        return f"{path}: {a!r} in the baseline, {b!r} in the candidate ({tol.describe()})"
    if a == b:
        return None
    return f"{path}: {a!r} in the baseline, {b!r} in the candidate"


def _compare_arrays(
    a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], path: str, tol: Tolerance
) -> str | None:
    if a.shape != b.shape:
        return f"{path}: shape {a.shape} in the baseline, {b.shape} in the candidate"
    if np.issubdtype(a.dtype, np.inexact) or np.issubdtype(b.dtype, np.inexact):
        close = np.isclose(a, b, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
    else:
        close = np.asarray(a == b)
        if a.dtype.kind in "mM" and b.dtype.kind in "mM":
            close = close | (np.isnat(a) & np.isnat(b))  # NaT equals NaT, as NaN does
    if bool(np.all(close)):
        return None
    bad = np.argwhere(~close)
    where = tuple(int(i) for i in bad[0])
    return (
        f"{path}: {len(bad)} of {a.size} elements differ, first at {where}: "
        f"{a[where]!r} in the baseline, {b[where]!r} in the candidate ({tol.describe()})"
    )


def _compare_pandas(a: Any, b: Any, path: str, tol: Tolerance) -> str | None:
    try:
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, rtol=tol.rtol, atol=tol.atol)
        elif isinstance(a, pd.Series):
            pd.testing.assert_series_equal(a, b, rtol=tol.rtol, atol=tol.atol)
        else:
            pd.testing.assert_index_equal(a, b, exact=True)
    except AssertionError as exc:
        detail = " ".join(str(exc).split())
        return f"{path}: {detail[:300]}"
    return None


def _compare_mappings(
    a: Mapping[Any, Any], b: Mapping[Any, Any], path: str, tol: Tolerance
) -> str | None:
    if set(a) != set(b):
        only_a = ", ".join(sorted(map(repr, set(a) - set(b)))[:3]) or "none"
        only_b = ", ".join(sorted(map(repr, set(b) - set(a)))[:3]) or "none"
        return f"{path}: keys only in the baseline: {only_a}; only in the candidate: {only_b}"
    for key in a:
        difference = _compare(a[key], b[key], f"{path}[{key!r}]", tol)
        if difference is not None:
            return difference
    return None


def _compare_by_eq(a: Any, b: Any, path: str, tol: Tolerance) -> str | None:
    if getattr(type(a), "__eq__", None) is getattr(object, "__eq__", None):
        state_a, state_b = getattr(a, "__dict__", None), getattr(b, "__dict__", None)
        if isinstance(state_a, dict) and isinstance(state_b, dict):
            return _compare_mappings(state_a, state_b, f"{path}.__dict__", tol)
        raise ExperimentError(
            f"cannot compare {path}: {type(a).__name__} defines no equality and has no "
            "attributes to compare; check plain values with --check VAR"
        )
    equal = a == b
    if isinstance(equal, np.ndarray):
        equal = bool(np.all(equal))
    if not isinstance(equal, bool | np.bool_):
        raise ExperimentError(
            f"cannot compare {path}: {type(a).__name__} == gives a {type(equal).__name__}, not "
            "True or False; check plain values with --check VAR"
        )
    if equal:
        return None
    return f"{path}: {_short(a)} in the baseline, {_short(b)} in the candidate"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
