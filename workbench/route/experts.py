"""Experts for the user's own hot functions: the seeds' Mixture of Experts, where the
experts are implementations of one function and the gate is learned on this machine.

    @workbench.experts(size=lambda grid, a, b: len(grid) * len(grid[0]))
    def recolor(grid, a, b): ...                 # the first implementation: the reference
    @recolor.expert("numpy")
    def _(grid, a, b): ...
    @recolor.expert("cupy")
    def _(grid, a, b): ...

    @workbench.experts(xp=("numpy", "cupy"))     # one array-generic implementation
    def scale(xp, x): return (x - x.mean(0)) / x.std(0)

A call runs the expert measured fastest here for its size bucket, with its arrays moved
where that expert needs them, and returns the result where the inputs lived. While a
bucket is new the gate learns on the real calls (learner.py); once it has chosen, a call
costs the size function, a dict lookup and the chosen expert. `f.explain(*args)`,
`f.table()` and `f.thresholds` say what it chose and why; `f.save()` writes what it
learned to the machine profile, which the next kernel reads (learned.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from workbench.route.gate import BoundGated, Gated

if TYPE_CHECKING:
    pass

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["BoundGated", "Gated", "experts"]


@overload
def experts(fn: F, /) -> Gated: ...


@overload
def experts(fn: None = None, /, **options: Any) -> Callable[[Callable[..., Any]], Gated]: ...


def experts(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Make `fn` the reference expert of a gated function (see the module docstring).

    Options: `size` (the gate's feature: a function of the call's arguments; default the
    elements of its array arguments), `xp` (('numpy', 'cupy'): one array-generic
    implementation taking the array module first), `name`/`kind` of the reference
    (default 'python'), `rtol`/`atol` (how close results must be to the reference's),
    `profile` (the machine profile JSON to learn into; default learned.default_profile_path),
    `samples` (timed calls per expert and bucket, default 2), `per_decade` (buckets per
    factor of ten, default 4), `device` (the GPU for CuPy experts), `check` ('amortized':
    a result is checked against the reference in each bucket at once when the reference
    costs at most 4x the expert there, else once that costs at most 10% of the time spent
    in the bucket; 'always': at once), `autosave`,
    `save_every_s`, and `clock` (the timer; a seam for tests).
    """
    if fn is not None:
        return Gated(fn, **options)

    def decorate(function: Callable[..., Any]) -> Gated:
        return Gated(function, **options)

    return decorate
