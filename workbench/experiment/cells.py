"""Cells: code parsed once and compiled the way the caller compiles (plain Python here,
IPython's cell syntax in the magic's adapter), and what a baseline keeps of the
definitions it uses.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import types
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from workbench.profiling.capture import Step
from workbench.profiling.run import source_filename, steps_from_ast

Around = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class Cell:
    """Code parsed once: as written, as it runs (transformed), its file name and AST."""

    code: str
    source: str
    filename: str
    tree: ast.Module
    compiler: Callable[..., types.CodeType]
    # Runs a coroutine to its end, for cells with top-level await (IPython's loop runner).
    runner: Callable[[Any], Any] | None = None

    def steps(self, namespace: dict[str, Any]) -> list[Step]:
        """Callables that run the cell in `namespace`; the last expression is the result."""
        return steps_from_ast(self.tree, self.filename, namespace, self.compiler, self.runner)

    @property
    def has_result(self) -> bool:
        """True when the cell ends with an expression."""
        return bool(self.tree.body) and isinstance(self.tree.body[-1], ast.Expr)


class Compiler(Protocol):
    """Turns code into a :class:`Cell` (IPython's adapter transforms cell syntax first)."""

    def parse(self, code: str) -> Cell:
        """Parse `code`; a SyntaxError is raised unchanged."""
        ...


class PythonCompiler:
    """Plain Python, registered with linecache so tracebacks and line passes show it."""

    def __init__(self, filename: str | None = None) -> None:
        self.filename = filename

    def parse(self, code: str) -> Cell:
        filename = self.filename or source_filename(code)
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        return Cell(code, code, filename, ast.parse(code, filename=filename), compile)


def referenced_objects(code: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The functions and classes of `namespace` that `code` names directly."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return {
        name: namespace[name]
        for name in sorted(names)
        if name in namespace and isinstance(namespace[name], types.FunctionType | type)
    }


def fingerprint(value: Any) -> str:
    """A digest of a function's code (or a class's name), to tell when it was redefined."""
    code = getattr(value, "__code__", None)
    if not isinstance(code, types.CodeType):
        return f"{type(value).__name__}:{getattr(value, '__qualname__', '')}"
    digest = hashlib.sha1()
    stack = [code]
    while stack:
        item = stack.pop()
        digest.update(item.co_code)
        digest.update(repr(item.co_names).encode())
        for const in item.co_consts:
            if isinstance(const, types.CodeType):
                stack.append(const)
            else:
                digest.update(repr(const).encode())
    return digest.hexdigest()[:16]
