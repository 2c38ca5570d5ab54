"""Line hot spots: a second pass with line_profiler over a few chosen functions.

The pass re-runs the code, so it happens only when asked. cProfile is never active
at the same time (on Python 3.12+ the two cannot be).
"""

from __future__ import annotations

import builtins
import inspect
import linecache
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from workbench.errors import ProfileError
from workbench.profiling.capture import Step, describe_error
from workbench.profiling.categories import ModuleIndex, is_cell_file

LINE_COLUMNS = ["function", "file", "line", "hits", "time_s", "pct_of_function", "source"]
# Categories whose functions are not the user's own code.
_NOT_USER = ("stdlib", "native", "GPU")
_NESTED = ("<listcomp>", "<genexpr>", "<lambda>", "<dictcomp>", "<setcomp>")

CodeKey = tuple[str, int, str]


@dataclass(frozen=True)
class LinePass:
    """What the line pass measured, and what it could not."""

    lines: pd.DataFrame
    functions: list[str]
    seconds: float
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    result: object = field(default=None, repr=False)

    def hottest(self, n: int = 10) -> pd.DataFrame:
        """The `n` lines with the most time, over all profiled functions."""
        return self.lines.sort_values("time_s", ascending=False, kind="stable").head(n)


def _code_key(code: types.CodeType) -> CodeKey:
    return (code.co_filename, code.co_firstlineno, code.co_name)


def _underlying(obj: object) -> types.FunctionType | None:
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    # getattr_static: never run an object's own __getattr__ (six's lazy modules import)
    while not isinstance(obj, types.FunctionType):
        inner = inspect.getattr_static(obj, "__wrapped__", None)
        if inner is None or inner is obj:
            break
        obj = inner
    return obj if isinstance(obj, types.FunctionType) else None


def _functions_in(namespace: Mapping[str, object]) -> Iterable[types.FunctionType]:
    for value in list(namespace.values()):
        func = _underlying(value)
        if func is not None:
            yield func
        elif isinstance(value, type):
            for member in list(vars(value).values()):
                inner = _underlying(member)
                if inner is not None:
                    yield inner


def _nested_codes(code: types.CodeType) -> Iterable[types.CodeType]:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from _nested_codes(const)


def index_functions(
    files: set[str], namespace: Mapping[str, object]
) -> dict[CodeKey, types.FunctionType]:
    """Map the code keys cProfile reports to function objects: the function itself, or
    for comprehensions, lambdas and inner functions, the module-level function holding them."""
    pools: list[Mapping[str, object]] = [namespace]
    modules = ModuleIndex()
    for path in sorted(files):
        name = None if is_cell_file(path) else modules.lookup(path)
        if name is not None and name in sys.modules:
            pools.append(vars(sys.modules[name]))
    found: dict[CodeKey, types.FunctionType] = {}
    for pool in pools:
        for func in _functions_in(pool):
            found.setdefault(_code_key(func.__code__), func)
            for nested in _nested_codes(func.__code__):
                found.setdefault(_code_key(nested), func)
    return found


def choose_functions(
    functions: pd.DataFrame, namespace: Mapping[str, object], n: int
) -> list[types.FunctionType]:
    """The `n` user functions with the most self time (nested code counted in its holder)."""
    user = functions[
        ~functions["native"]
        & ~functions["category"].isin(_NOT_USER)
        & ~functions["category"].str.startswith("library:")
        & (functions["name"] != "<module>")
    ]
    index = index_functions(set(user["file"]), namespace)
    totals: dict[types.FunctionType, float] = {}
    for path, line, name, tottime in zip(
        user["file"], user["line"], user["name"], user["tottime"], strict=True
    ):
        func = index.get((path, int(line), name))
        if func is not None:
            totals[func] = totals.get(func, 0.0) + float(tottime)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0].__qualname__))
    return [func for func, _ in ranked[:n]]


def resolve_names(
    names: Sequence[str], namespace: Mapping[str, object]
) -> tuple[list[types.FunctionType], list[str]]:
    """Look up ``-f NAME`` (dotted names allowed) without evaluating code.

    Returns the functions found and one message per name that could not be profiled.
    """
    found: list[types.FunctionType] = []
    problems: list[str] = []
    for name in names:
        head, *rest = name.split(".")
        if head in namespace:
            obj: object = namespace[head]
        elif hasattr(builtins, head):
            obj = getattr(builtins, head)
        else:
            problems.append(f"-f {name}: no such name in the namespace")
            continue
        try:
            for part in rest:
                obj = inspect.getattr_static(obj, part)
        except AttributeError:
            problems.append(f"-f {name}: has no attribute {part!r}")
            continue
        func = _underlying(obj)
        if func is None:
            kind = type(obj).__name__
            problems.append(f"-f {name}: not a Python function (it is a {kind}); skipped")
            continue
        if not linecache.getlines(func.__code__.co_filename):
            problems.append(f"-f {name}: its source is not available; skipped")
            continue
        found.append(func)
    return found, problems


def _swap_codes(
    code: types.CodeType, swapped: Mapping[types.CodeType, types.CodeType]
) -> types.CodeType:
    consts = tuple(
        swapped.get(c, _swap_codes(c, swapped)) if isinstance(c, types.CodeType) else c
        for c in code.co_consts
    )
    return code.replace(co_consts=consts) if consts != code.co_consts else code


def _redirect(step: Step, swapped: Mapping[types.CodeType, types.CodeType]) -> Step:
    """A step whose code defines the chosen functions with their instrumented code, so
    functions the re-run code defines anew are profiled too."""
    if not swapped or not isinstance(step, types.FunctionType):
        return step
    code = _swap_codes(step.__code__, swapped)
    if code is step.__code__:
        return step
    return types.FunctionType(
        code, step.__globals__, step.__name__, step.__defaults__, step.__closure__
    )


def run_lines(
    steps: Sequence[Step],
    targets: Sequence[types.FunctionType],
    *,
    skipped: Sequence[str] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[LinePass, BaseException | None]:
    """Re-run `steps` with line_profiler on `targets` only; `skipped` says which names
    asked for could not be profiled, and why."""
    from line_profiler import LineProfiler

    if sys.getprofile() is not None:
        raise ProfileError("another profiler is active: the line pass needs it stopped first")
    profiler = LineProfiler()
    originals = {func: func.__code__ for func in targets}
    for func in targets:
        profiler.add_function(func)  # swaps func.__code__ for an instrumented copy
    swapped = {originals[f]: f.__code__ for f in targets if f.__code__ is not originals[f]}
    steps = [_redirect(step, swapped) for step in steps]
    start = clock()
    profiler.enable_by_count()
    result: object = None
    error: BaseException | None = None
    try:
        for step in steps:
            result = step()
    except BaseException as exc:  # handed back to the caller unchanged
        error = exc
    finally:
        profiler.disable_by_count()
    seconds = clock() - start
    stats = profiler.get_stats()
    names = {_code_key(f.__code__): f.__qualname__ for f in targets}
    rows = []
    for (path, first, name), entries in stats.timings.items():
        total = sum(t for _, _, t in entries) * stats.unit
        label = names.get((path, first, name), name)
        for lineno, hits, units in sorted(entries):
            spent = units * stats.unit
            rows.append(
                (
                    label,
                    path,
                    lineno,
                    hits,
                    spent,
                    100.0 * spent / total if total > 0 else 0.0,
                    linecache.getline(path, lineno).rstrip(),
                )
            )
    lines = pd.DataFrame.from_records(rows, columns=LINE_COLUMNS)
    described = describe_error(error)
    functions = [f.__qualname__ for f in targets]
    return LinePass(lines, functions, seconds, list(skipped), described, result), error
