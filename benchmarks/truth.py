"""Ground truths without a profiler: time the calls into a category where they happen.

Every function of a category's modules that other code can call is replaced, in the
callers' module namespaces, by a wrapper with the same signature (code that reads
``__code__.co_argcount``, as arc-dsl's ``rbind`` does, still works) that adds the time of
the call to the category's clock when no call of the category is already running.
Functions the category returns (closures, lambdas) are wrapped the same way. Nothing
traces the code, so the category's own code runs at full speed, C work included; what the
wrappers themselves cost is measured with the same wrapper around an empty function and
taken out: per timed call from the category's clock, per wrapped call from the total.

With `inclusive=` chosen functions are also wrapped where their own module calls them,
each with its own clock: their outermost calls give each one's inclusive time.
"""

from __future__ import annotations

import inspect
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

clock = time.perf_counter


@dataclass
class Clock:
    """Seconds inside the timed calls, how many were timed, and how many ran nested."""

    seconds: float = 0.0
    timed: int = 0
    nested: int = 0
    depth: int = 0


@dataclass
class Timing:
    """What one run with the wrappers in place measured."""

    total_s: float
    clocks: dict[str, Clock] = field(default_factory=dict)


_FACTORIES: dict[Any, Callable[..., Callable[..., Any]]] = {}


def signature_wrapper(function: Callable[..., Any], timer: Clock) -> Callable[..., Any]:
    """A function with `function`'s signature that calls it and times the outermost call
    (the wrapper's source is made once per code object and signature)."""
    code = getattr(function, "__code__", None)
    defaults = (getattr(function, "__defaults__", None), getattr(function, "__kwdefaults__", None))
    key = (code, repr(defaults))
    factory = _FACTORIES.get(key)
    if factory is None:
        made = _factory(function)
        if made is None:
            return function
        factory = _FACTORIES[key] = made
    files = {code.co_filename} if code is not None else set()

    def wrap(result: Any) -> Any:
        inner = getattr(result, "__code__", None)
        if (
            isinstance(result, types.FunctionType)
            and inner is not None
            and inner.co_filename in files
        ):
            return signature_wrapper(result, timer)
        return result

    return factory(function, timer, wrap)


def _factory(function: Callable[..., Any]) -> Callable[..., Callable[..., Any]] | None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    params: list[str] = []
    passing: list[str] = []
    starred = False
    defaults: dict[str, Any] = {}
    for param in signature.parameters.values():
        name = param.name
        if param.default is not param.empty:
            defaults[f"_d_{name}"] = param.default
        value = f"{name}=_d_{name}" if param.default is not param.empty else name
        if param.kind is param.VAR_POSITIONAL:
            params.append(f"*{name}")
            passing.append(f"*{name}")
            starred = True
        elif param.kind is param.VAR_KEYWORD:
            params.append(f"**{name}")
            passing.append(f"**{name}")
        elif param.kind is param.KEYWORD_ONLY:
            if not starred:
                params.append("*")
                starred = True
            params.append(value)
            passing.append(f"{name}={name}")
        else:
            params.append(value)
            passing.append(name)
    call = f"_wrap(_f({', '.join(passing)}))"
    name = function.__name__ if function.__name__.isidentifier() else "wrapped"
    source = (
        "def _make(_f, _timer, _wrap):\n"
        f"    def {name}({', '.join(params)}):\n"
        "        t = _timer\n"
        "        if t.depth:\n"
        "            t.nested += 1\n"
        f"            return {call}\n"
        "        t.depth = 1\n"
        "        start = _clock()\n"
        "        try:\n"
        f"            return {call}\n"
        "        finally:\n"
        "            t.seconds += _clock() - start\n"
        "            t.timed += 1\n"
        "            t.depth = 0\n"
        f"    return {name}\n"
    )
    namespace: dict[str, Any] = {"_clock": clock, **defaults}
    exec(source, namespace)
    made: Callable[..., Callable[..., Any]] = namespace["_make"]
    return made


@contextmanager
def wrapped(
    modules: Iterable[types.ModuleType],
    callers: Iterable[types.ModuleType],
    timer: Clock,
    names: Iterable[str] | None = None,
) -> Iterator[None]:
    """Within the block, the callers' names for the functions of `modules` (only `names`,
    when given) are wrappers."""
    targets = {m.__file__ for m in modules}
    only = None if names is None else set(names)
    saved: list[tuple[dict[str, Any], str, Any]] = []
    try:
        for caller in callers:
            space = vars(caller)
            for name, value in list(space.items()):
                if only is not None and name not in only:
                    continue
                code = getattr(value, "__code__", None)
                if (
                    isinstance(value, types.FunctionType)
                    and code is not None
                    and code.co_filename in targets
                ):
                    saved.append((space, name, value))
                    space[name] = signature_wrapper(value, timer)
        yield
    finally:
        for space, name, value in reversed(saved):
            space[name] = value


def wrapper_cost() -> tuple[float, float, float]:
    """Seconds a wrapper adds to a timed call: inside its clock, and in all; and to a
    nested call (inside the outer call's clock). Medians of interleaved loops."""

    def empty(a: object, b: object = None) -> None:
        return None

    timer = Clock()
    wrapper = signature_wrapper(empty, timer)
    n = 20_000
    inside, full, nested = [], [], []
    for _ in range(7):
        start = clock()
        for i in range(n):
            empty(i)
        bare = clock() - start
        timer.seconds = 0.0
        start = clock()
        for i in range(n):
            wrapper(i)
        whole = clock() - start
        inside.append(max(timer.seconds - bare, 0.0) / n)
        full.append(max(whole - bare, 0.0) / n)
        timer.depth = 1
        start = clock()
        for i in range(n):
            wrapper(i)
        nested.append(max(clock() - start - bare, 0.0) / n)
        timer.depth = 0
    return statistics.median(inside), statistics.median(full), statistics.median(nested)


Layer = tuple[str, list[types.ModuleType], list[types.ModuleType], "list[str] | None"]


def layer_times(
    run: Callable[[], object],
    layers: list[Layer],
    extra: Callable[[dict[str, Clock]], Any] | None = None,
    inner: dict[str, list[str]] | None = None,
) -> Timing:
    """One run of `run` with every layer's wrappers in place: (label, its modules, the
    modules that call it, only these names or None). `extra(clocks)` is a context manager
    that wraps more (callables held in data, say). Each clock is corrected for the
    wrappers' own cost; `inner` names, per label, the layers whose calls run inside it."""
    inner = inner or {}
    inside, full, nested = wrapper_cost()
    clocks = {layer[0]: Clock() for layer in layers}
    stack = []
    try:
        if extra is not None:
            manager = extra(clocks)
            manager.__enter__()
            stack.append(manager)
        for label, modules, callers, names in layers:
            manager = wrapped(modules, callers, clocks[label], names)
            manager.__enter__()
            stack.append(manager)
        start = clock()
        run()
        total = clock() - start
    finally:
        for manager in reversed(stack):
            manager.__exit__(None, None, None)
    # Layers nest (the solvers' clock holds the DSL's): a wrapper's cost lands on its own
    # clock and on every clock around it; `inner` says which clocks hold which.
    added = sum(t.timed * full + t.nested * nested for t in clocks.values())
    costs = {label: t.timed * inside + t.nested * nested for label, t in clocks.items()}
    for label, timer in clocks.items():
        held = costs[label] + sum(
            clocks[other].timed * full + clocks[other].nested * nested
            for other in inner.get(label, ())
        )
        timer.seconds = max(timer.seconds - held, 0.0)
    return Timing(max(total - added, 1e-9), clocks)


def plain_seconds(run: Callable[[], object], repeats: int = 3) -> float:
    """Median seconds of `run` with no profiler and no wrapper."""
    times = []
    for _ in range(repeats):
        start = clock()
        run()
        times.append(clock() - start)
    return statistics.median(times)


def module_of(path: str) -> types.ModuleType:
    """The loaded module whose file is `path`."""
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == path:
            return module
    raise LookupError(f"no loaded module has the file {path}")
