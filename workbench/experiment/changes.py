"""The changes ``--try CHANGE:FUNCTION`` applies mechanically, checked before anything runs.

* ``memoize``: ``functools.lru_cache(maxsize=None)`` around the function, a fresh cache
  for every run;
* ``inline``: a thin wrapper that only passes its arguments on (``def f(a, b): return
  g(a, b)``) replaced by what it calls, everywhere it is held.

``batch``, ``exceptions`` and ``offload`` need code only the user can write (a batched
version, a check before the work, GPU code); naming them is one clear error saying so,
before anything runs.
"""

from __future__ import annotations

import builtins
import functools
import types
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ExperimentError
from workbench.experiment.patch import Patch, Replacement, Target, holders, lookup, resolve
from workbench.profiling.whatif_static import forwards_to

MECHANICAL = ("memoize", "inline")
BY_HAND = {
    "batch": "a batched version of the function (one call for the whole loop) that only you "
    "can write",
    "exceptions": "a check in place of the exception, in the code that raises or catches it",
    "offload": "GPU code for the function (or a gate with a CuPy expert for it)",
}
_GENERATOR_FLAGS = 0x20 | 0x80 | 0x100 | 0x200


@dataclass(frozen=True)
class Change:
    """A change to try: its kind, the function, and how to make the replacement."""

    kind: str
    target: Target
    make: Replacement
    describe: str

    @property
    def spec(self) -> str:
        """``kind:function`` as the what-if table writes it."""
        return f"{self.kind}:{self.target.qualname}"

    def patch(self, namespaces: list[MutableMapping[str, Any]]) -> Callable[[], Patch]:
        """What the session's `around=` takes: a fresh Patch for every run."""
        return lambda: Patch([(self.target, self.make)], namespaces)


def parse_spec(spec: str) -> tuple[str, str]:
    """``CHANGE:FUNCTION`` split, the change checked against those that exist."""
    kind, sep, name = spec.strip().partition(":")
    known = (*MECHANICAL, *BY_HAND)
    if not sep or not name.strip():
        raise ExperimentError(
            f"--try needs CHANGE:FUNCTION, e.g. memoize:mymodule.myfunc, got {spec!r}"
        )
    if kind not in known:
        raise ExperimentError(f"--try: unknown change {kind!r}; use one of {', '.join(known)}")
    return kind, name.strip()


def _memoize(target: Target) -> Change:
    if target.func.__code__.co_flags & _GENERATOR_FLAGS:
        raise ExperimentError(
            f"memoize:{target.asked}: it is a generator (or async) function; a cache would "
            "hand out one iterator that is used up once: nothing was run"
        )
    make: Replacement = functools.lru_cache(maxsize=None)
    return Change(
        "memoize", target, make, f"functools.lru_cache(maxsize=None) on {target.qualname}"
    )


def _inline(target: Target) -> Change:
    callee_name = forwards_to(target.func)
    if callee_name is None:
        raise ExperimentError(
            f"inline:{target.asked}: it does more than pass its arguments on to one function, "
            "so removing it cannot be done mechanically: inline it by hand and measure that "
            "with --candidate NAME (nothing was run)"
        )
    scope: dict[str, object] = {**vars(builtins), **target.func.__globals__}
    try:
        callee = lookup(callee_name, scope)
    except ExperimentError:
        raise ExperimentError(
            f"inline:{target.asked}: what it calls ({callee_name}) cannot be found without "
            "running code: nothing was run"
        ) from None
    if not callable(callee):
        raise ExperimentError(f"inline:{target.asked}: {callee_name} is not callable")

    def make(func: types.FunctionType) -> Any:
        return callee

    return Change("inline", target, make, f"{target.qualname} replaced by {callee_name}")


def plan_change(spec: str, namespace: MutableMapping[str, Any]) -> Change:
    """The change `spec` names, checked: a Python function held by a module, the
    namespace or a class, and a change that can be made without the user's code."""
    kind, name = parse_spec(spec)
    if kind in BY_HAND:
        raise ExperimentError(
            f"--try {kind}:{name}: this change needs {BY_HAND[kind]}; it cannot be applied "
            "mechanically. Write it, then measure it with --candidate NAME (nothing was run)"
        )
    target = resolve(name, namespace)
    if not holders([target.stored], [namespace])[id(target.stored)]:
        raise ExperimentError(
            f"--try {spec}: no module, class or the namespace holds {target.qualname} under a "
            "name, so it cannot be replaced in place (nothing was run)"
        )
    return _memoize(target) if kind == "memoize" else _inline(target)
