"""Cells and the subjects an experiment times: code parsed once, compiled the way the
caller compiles (plain Python here, IPython's cell syntax in the magic's adapter), and
run in fresh copies of a namespace.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import linecache
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from workbench.errors import ExperimentError, WorkbenchError
from workbench.experiment.measure import Clock, Subject
from workbench.experiment.outputs import Outputs, collect
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

    def steps(self, namespace: dict[str, Any]) -> list[Step]:
        """Callables that run the cell in `namespace`; the last expression is the result."""
        return steps_from_ast(self.tree, self.filename, namespace, self.compiler)

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


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Keep the re-runs' prints out of the cell's output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def cell_subject(
    label: str,
    cell: Cell,
    make_namespace: Callable[[], dict[str, Any]],
    checks: Sequence[str],
    *,
    clock: Clock = time.perf_counter,
    around: Around | None = None,
) -> Subject:
    """A Subject that runs a parsed cell in a fresh namespace from `make_namespace`.

    The checked variables are removed from the namespace before the first run, so a
    version that does not set them fails the check instead of passing on stale values.
    With `around`, every run happens inside that context.
    """
    context = around or contextlib.nullcontext

    def first() -> tuple[float, Outputs]:
        namespace = make_namespace()
        for name in checks:  # the code must set them itself: no stale values
            namespace.pop(name, None)
        steps = cell.steps(namespace)
        value: object = None
        with context():
            start = clock()
            for step in steps:
                value = step()
            elapsed = clock() - start
        return elapsed, collect(namespace, value if cell.has_result else None, checks)

    def timed(number: int) -> float:
        steps = cell.steps(make_namespace())
        with context():
            start = clock()
            for _ in range(number):
                for step in steps:
                    step()
            return clock() - start

    return Subject(label, first, timed)


def guarded(subject: Subject, name: str) -> Subject:
    """The baseline Subject, with its errors said to come from the baseline's code."""

    def explain(exc: Exception) -> ExperimentError:
        return ExperimentError(
            f"the code of baseline {name!r} raised {type(exc).__name__}: {exc} when re-run: "
            "it must still run in this kernel (define what it uses, or record the baseline again)"
        )

    def first() -> tuple[float, Outputs]:
        try:
            return subject.first()
        except WorkbenchError:
            raise
        except Exception as exc:
            raise explain(exc) from exc

    def timed(number: int) -> float:
        try:
            return subject.timed(number)
        except Exception as exc:
            raise explain(exc) from exc

    return Subject(subject.label, first, timed)
