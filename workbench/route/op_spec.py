"""One op the router knows: its name, complexity (seed 002), cost kind, signature and
kernels, and how a call's arguments split into array operands and parameters. ops.py
holds the built-in ones and the registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from workbench.errors import RouteError
from workbench.route import pyops
from workbench.route import shapes as sh
from workbench.route.kinds import Complexity

ArrayFn = Callable[[ModuleType, Sequence[Any], sh.Params], Any]
ShapeFn = Callable[[Sequence[sh.Shape], sh.Params, str], sh.Analysis]

# Cost kinds: ops of one kind share cost parameters (MachineProfile.kernels).
KINDS = ("elementwise", "math", "reduce", "matmul", "convolve", "einsum", "view")


class UnknownOpError(RouteError):
    """No op of that name is registered."""


@dataclass(frozen=True)
class OpSpec:
    """One op: its name, complexity, cost kind, signature and kernels.

    `arity` is the number of leading array arguments (-1: einsum's subscripts, then any
    number of arrays). `params` names the non-array arguments in order, with defaults.
    Ops without `array_fn` are metadata only: they can be recommended but not run.
    """

    name: str
    framework: str
    complexity: Complexity
    kind: str
    description: str
    arity: int = 0
    params: tuple[tuple[str, Any], ...] = ()
    analyze: ShapeFn | None = None
    array_fn: ArrayFn | None = None
    python_fn: pyops.Kernel | None = None
    same_dtype: bool = False  # result dtype is the input's (views)
    aliases: tuple[str, ...] = field(default=())
    # The op as a NumPy user writes it on exact ndarrays: an operator or an array method,
    # called as host_fn(*operands, *parameter values) (None: array_fn with numpy).
    host_fn: Callable[..., Any] | None = None

    @property
    def runnable(self) -> bool:
        """True when the router can run this op (it has kernels)."""
        return self.array_fn is not None

    def parse(
        self, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], sh.Params]:
        """Split a call's arguments into array operands and named parameters."""
        if self.arity < 0:
            if not args:
                raise RouteError(f"{self.name}: needs a subscripts string, then the operands")
            arrays, extra = tuple(args[1:]), {"subscripts": args[0]}
            if not arrays:
                raise RouteError(f"{self.name}: needs at least one operand after {args[0]!r}")
        else:
            if len(args) < self.arity:
                raise RouteError(
                    f"{self.name}: needs {self.arity} array argument(s), got {len(args)}"
                )
            arrays, rest = tuple(args[: self.arity]), args[self.arity :]
            if len(rest) > len(self.params):
                raise RouteError(f"{self.name}: too many arguments ({len(args)})")
            extra = {name: value for (name, _), value in zip(self.params, rest, strict=False)}
        for key, value in kwargs.items():
            if key not in {name for name, _ in self.params} or key in extra:
                raise RouteError(
                    f"{self.name}: unexpected or repeated argument {key!r}; it takes "
                    f"{', '.join(n for n, _ in self.params) or 'no options'}"
                )
            extra[key] = value
        params = {name: default for name, default in self.params}
        params.update(extra)
        return arrays, params

    def param_key(self, params: sh.Params) -> tuple[Any, ...]:
        """The parameters as a hashable tuple, for the decision cache."""
        if not params:
            return ()
        return tuple(_hashable(params[name]) for name in sorted(params))


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_hashable(v) for v in value)
    return value
