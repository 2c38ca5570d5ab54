"""What the source of a function says about the changes the what-if pass predicts:
whether it changes its arguments or writes globals (a cache would then be wrong),
whether it only forwards its arguments to another function (so removing it is a
mechanical change), and which lines of a caller lie inside a loop or comprehension.

Everything is read with ``ast`` from the source linecache holds; nothing is run.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass

# Methods that change the object they are called on (lists, dicts, sets, bytearrays).
MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "popitem",
        "sort",
        "reverse",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "fill",
        "resize",
        "put",
    }
)
_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
COMPREHENSIONS = frozenset({"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"})


def function_ast(func: types.FunctionType) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function's own definition, parsed from its source (None when unavailable)."""
    try:
        lines, _ = inspect.findsource(func)
    except (OSError, TypeError):
        return None
    start = func.__code__.co_firstlineno - 1
    block = inspect.getblock(lines[start:])
    try:
        tree = ast.parse(textwrap.dedent("".join(block)))
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return names


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


@dataclass(frozen=True)
class Purity:
    """Why a cache could return a stale or wrong result: each reason read from the source."""

    mutates: tuple[str, ...] = ()
    writes_globals: tuple[str, ...] = ()
    known: bool = True

    @property
    def reasons(self) -> list[str]:
        out = [f"it changes its argument {name!r}" for name in self.mutates]
        out += [f"it writes the global {name!r}" for name in self.writes_globals]
        return out


def purity(func: types.FunctionType) -> Purity:
    """Arguments the function changes in place and globals it rebinds, from its source."""
    node = function_ast(func)
    if node is None:
        return Purity(known=False)
    params = set(_parameters(node))
    mutated: dict[str, None] = {}
    written: dict[str, None] = {}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Global | ast.Nonlocal):
            written.update(dict.fromkeys(inner.names))
        targets: list[ast.expr] = []
        if isinstance(inner, ast.Assign):
            targets = list(inner.targets)
        elif isinstance(inner, ast.AugAssign | ast.AnnAssign):
            targets = [inner.target]
        elif isinstance(inner, ast.Delete):
            targets = list(inner.targets)
        for target in targets:
            if isinstance(target, ast.Attribute | ast.Subscript):
                root = _root_name(target)
                if root in params:
                    mutated[root] = None
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr in MUTATING_METHODS
        ):
            root = _root_name(inner.func.value)
            if root in params:
                mutated[root] = None
    return Purity(tuple(mutated), tuple(written))


def data_globals(func: types.FunctionType) -> dict[str, int]:
    """The module globals the function reads that hold data (not functions, classes or
    modules), with the id of their value now: compared after the run, a changed id means
    the function read a global that was rebound."""
    names = set(func.__code__.co_names)
    for const in func.__code__.co_consts:
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    out = {}
    for name in sorted(names):
        if name not in func.__globals__:
            continue
        value = func.__globals__[name]
        if callable(value) or isinstance(value, types.ModuleType):
            continue
        out[name] = id(value)
    return out


def forwards_to(func: types.FunctionType) -> str | None:
    """The dotted name a thin wrapper passes all its arguments to, unchanged and in
    order (``def f(a, b): return g(a, b)``), or None when it does anything else."""
    node = function_ast(func)
    if node is None or func.__defaults__ or func.__kwdefaults__:
        return None
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return None
    call = body[0].value
    if not isinstance(call, ast.Call) or node.args.kwonlyargs or node.args.posonlyargs:
        return None
    a = node.args
    names = [p.arg for p in a.args]
    given = list(call.args)
    star = given[-1] if given and isinstance(given[-1], ast.Starred) else None
    if a.vararg is not None:
        if star is None or not isinstance(star.value, ast.Name) or star.value.id != a.vararg.arg:
            return None
        given = given[:-1]
    elif star is not None:
        return None
    if [g.id if isinstance(g, ast.Name) else None for g in given] != names:
        return None
    keywords = call.keywords
    if a.kwarg is not None:
        if len(keywords) != 1 or keywords[0].arg is not None:
            return None
        value = keywords[0].value
        if not isinstance(value, ast.Name) or value.id != a.kwarg.arg:
            return None
    elif keywords:
        return None
    parts: list[str] = []
    target: ast.expr = call.func
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if not isinstance(target, ast.Name) or target.id in {p.arg for p in a.args}:
        return None
    return ".".join([target.id, *reversed(parts)])


def loop_lines(filename: str) -> set[int]:
    """The lines of a file (or cell) that lie inside a loop or a comprehension."""
    source = "".join(linecache.getlines(filename))
    if not source:
        return set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, _LOOPS):
            end = getattr(node, "end_lineno", None) or node.lineno
            lines.update(range(node.lineno, end + 1))
    return lines
