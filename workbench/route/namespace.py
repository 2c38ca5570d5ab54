"""``xp = workbench.namespace(*arrays)``: NumPy's whole API (CuPy's, for arrays on a GPU),
with the router's ops routed.

    xp = workbench.namespace(points, centres)
    d = xp.sum(xp.square(xp.subtract(points, c)), axis=1)   # routed: python, NumPy or CuPy
    labels = xp.argmin(xp.stack(dists), axis=0)              # passed through to NumPy, counted

Registered ops called in a form the router takes (array operands that are exact NumPy
or CuPy arrays, lists, tuples or numbers; the op's own simple parameters, such as an int
axis) are routed: the backend measured fastest for their dtype, rank and size bucket
runs them, and lists come back as lists, tuples as tuples. Everything else, any other
name (``xp.stack``, ``xp.linalg.norm``, ``xp.pi``) and any other argument form (``axis=(0,
1)``, ``keepdims``, ``dtype=``, ``out=``, ``reshape(a, [2, 3])``, ndarray subclasses,
pandas objects), goes to NumPy or CuPy unchanged and is counted, never refused.
``xp.counts()`` shows both.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import gpu
from workbench.route.hot import MISS
from workbench.route.machine_profile import MachineProfile
from workbench.route.ops import OpSpec
from workbench.route.router import Router

if TYPE_CHECKING:
    import pandas as pd

_ROUTABLE_BASE = frozenset({np.ndarray, list, tuple, float, int, bool})
# The parameters each routed op takes, and the simple values it routes them with.
_SIMPLE: dict[str, Callable[[Any], bool]] = {
    "axis": lambda v: v is None or (type(v) is int),
    "axes": lambda v: v is None or type(v) is int or _int_tuples(v),
    "shape": lambda v: type(v) is int or (type(v) is tuple and all(type(d) is int for d in v)),
    "mode": lambda v: v in ("full", "same", "valid"),
    "subscripts": lambda v: type(v) is str,
}


def _int_tuples(value: Any) -> bool:
    if type(value) is not tuple:
        return False
    return all(
        type(v) is int or (type(v) is tuple and all(type(x) is int for x in v)) for v in value
    )


class _Module:
    """A submodule of NumPy or CuPy (linalg, fft, random...), its calls counted."""

    def __init__(self, owner: Namespace, module: ModuleType, prefix: str) -> None:
        self._owner, self._module, self._prefix = owner, module, prefix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._module, name)
        return self._owner._passing(f"{self._prefix}.{name}", attr)

    def __repr__(self) -> str:
        return f"<workbench namespace view of {self._module.__name__}>"


class Namespace:
    """NumPy's (or CuPy's) API with the router's ops routed: see the module docstring."""

    def __init__(
        self,
        *arrays: Any,
        router: Router | None = None,
        profile: MachineProfile | str | os.PathLike[str] | None = None,
    ) -> None:
        on_gpu = any(gpu.is_device_type(type(a)) for a in arrays)
        cp = gpu.cupy_module() if on_gpu else None
        self._module: ModuleType = cp if cp is not None else np
        self.router = router if router is not None else Router(profile or "seed")
        self.passed: dict[str, int] = {}  # name -> calls that went to NumPy/CuPy as they were
        self.unrouted: dict[str, int] = {}  # routed op -> calls passed through for their form
        self._routable = _ROUTABLE_BASE | ({cp.ndarray} if cp is not None else set())

    @property
    def module(self) -> ModuleType:
        """The array module everything else goes to: numpy, or cupy for GPU arrays."""
        return self._module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        registry = self.router.registry
        spec = registry.get(name) if name in registry and hasattr(np, name) else None
        if spec is not None and spec.runnable and spec.name == name:
            fn = self._routed(spec)
            self.__dict__[name] = fn  # the next lookup finds it directly
            return fn
        attr = getattr(self._module, name)
        value = self._passing(name, attr)
        if callable(value) and not isinstance(attr, type):
            self.__dict__[name] = value
        return value

    def _passing(self, name: str, attr: Any) -> Any:
        """`attr` as handed to the caller: submodules viewed, functions counted."""
        if isinstance(attr, ModuleType):
            return _Module(self, attr, name)
        if not callable(attr) or isinstance(attr, type):
            self.passed[name] = self.passed.get(name, 0) + 1  # a constant, dtype or class
            return attr
        passed = self.passed

        @functools.wraps(attr)
        def through(*args: Any, **kwargs: Any) -> Any:
            passed[name] = passed.get(name, 0) + 1
            return attr(*args, **kwargs)

        return through

    def _routed(self, spec: OpSpec) -> Callable[..., Any]:
        """The op `spec` as a NumPy-style function: routed when its form allows."""
        direct = getattr(self._module, spec.name)
        route = self.router.route
        routable = self._routable
        unrouted = self.unrouted
        name = spec.name
        defaults = dict(spec.params)
        default_key = spec.param_key(defaults)
        arity = spec.arity
        names = [n for n, _ in spec.params]

        def fall_through(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            unrouted[name] = unrouted.get(name, 0) + 1
            return direct(*args, **kwargs)

        def general(*args: Any, **kwargs: Any) -> Any:
            if not kwargs and len(args) == arity:  # the op's default parameters
                for a in args:
                    if type(a) not in routable:
                        return fall_through(args, kwargs)
                return route(spec, args, defaults, default_key)
            if arity < 0:  # einsum: subscripts, then the operands
                arrays, given = args[1:], {"subscripts": args[0] if args else None}
            else:
                arrays, extra = args[:arity], args[arity:]
                if len(arrays) < arity or len(extra) > len(names):
                    return fall_through(args, kwargs)
                given = dict(zip(names, extra, strict=False))
            for key, value in kwargs.items():
                if key not in names or key in given:
                    return fall_through(args, kwargs)
                given[key] = value
            if not arrays or any(type(a) not in routable for a in arrays):
                return fall_through(args, kwargs)
            if not all(_SIMPLE.get(k, lambda v: False)(v) for k, v in given.items()):
                return fall_through(args, kwargs)
            params = {**defaults, **given}
            return route(spec, arrays, params, spec.param_key(params))

        hot_path = self.router._hot.get  # op name -> the plan its last call ran (hot.py)

        if arity == 1 and not [n for n in names if defaults[n] is not None]:

            def unary(a: Any, /, *rest: Any, **kwargs: Any) -> Any:
                if rest or kwargs:
                    return general(a, *rest, **kwargs)
                hot = hot_path(name)
                if hot is not None:
                    result = hot(a)
                    if result is not MISS:
                        return result
                if type(a) not in routable:
                    return fall_through((a,), {})
                return route(spec, (a,), defaults, default_key)

            return functools.wraps(direct)(unary)
        if arity == 2 and not names:

            def binary(a: Any, b: Any, /, *rest: Any, **kwargs: Any) -> Any:
                if rest or kwargs:
                    return general(a, b, *rest, **kwargs)
                hot = hot_path(name)
                if hot is not None:
                    result = hot(a, b)
                    if result is not MISS:
                        return result
                if type(a) not in routable or type(b) not in routable:
                    return fall_through((a, b), {})
                return route(spec, (a, b), defaults, default_key)

            return functools.wraps(direct)(binary)

        return functools.wraps(direct)(general)

    def counts(self) -> pd.DataFrame:
        """Routed calls per op and backend (decisions, executions), then what went to
        NumPy or CuPy as it was: name, calls, why."""
        import pandas as pd

        routed = self.router.counts()
        rows = [(n, "passed through", c, "not a routed op") for n, c in sorted(self.passed.items())]
        rows += [
            (n, "passed through", c, "argument form or types the router does not take")
            for n, c in sorted(self.unrouted.items())
        ]
        extra = pd.DataFrame(rows, columns=["op", "backend", "executions", "why"])
        extra.insert(2, "decisions", 0)
        routed = routed.drop(columns=["fallbacks_from"]).assign(why="routed")
        frame = pd.concat([routed, extra], ignore_index=True) if not routed.empty else extra
        return frame.astype({"decisions": "int64", "executions": "int64"})

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._module)) | {"counts", "module", "router"})

    def __repr__(self) -> str:
        return f"<workbench namespace over {self._module.__name__}, {self.router!r}>"


def namespace(
    *arrays: Any,
    router: Router | None = None,
    profile: MachineProfile | str | os.PathLike[str] | None = None,
) -> Namespace:
    """The array namespace for these arrays: CuPy's when one lives on a GPU, else NumPy's,
    with the router's ops routed (`router`, or one on `profile`, default the seed's)."""
    return Namespace(*arrays, router=router, profile=profile)
