"""Pattern scanner: compute patterns in Python source, found with `ast` (seed 000's scanner).

High: ``@``, matmul, dot, einsum, convolve, tensordot, and nested loops that multiply and
accumulate. Medium: sum, mean, max, min, prod, reduce, and loops that fold into an
accumulator. Low: elementwise arithmetic on arrays, map, and comprehensions or loops that
do arithmetic element by element. Each finding names its line, pattern, complexity, the
operand expressions and the router op that stands for it;
:func:`workbench.route.recommend.recommendations` adds sizes from live values and a
recommended backend.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from workbench.errors import RouteError
from workbench.route.patterns import Finding, Scanner

__all__ = ["Finding", "scan_file", "scan_module", "scan_source"]

if TYPE_CHECKING:
    pass


def _blank_magics(source: str) -> str:
    """IPython magics and shell escapes become blank lines, so the rest parses."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def scan_source(
    source: str, filename: str = "<cell>", array_names: Collection[str] = ()
) -> list[Finding]:
    """Compute patterns in Python source. `array_names` are names known to hold arrays
    (arithmetic on them counts as elementwise); names assigned from numpy/cupy calls in
    the source count too. RouteError when the source does not parse."""
    cleaned = _blank_magics(source)
    try:
        tree = ast.parse(cleaned, filename=filename)
    except SyntaxError as exc:
        raise RouteError(f"cannot scan {filename}: line {exc.lineno}: {exc.msg}") from None
    scanner = Scanner(source.splitlines(), array_names)
    scanner.visit(tree)
    findings = [_bind(f, scanner.params, scanner.calls) for f in scanner.findings]
    return sorted(findings, key=lambda f: f.line)


def _bind(
    finding: Finding, params: dict[str, list[str]], calls: dict[str, list[list[str]]]
) -> Finding:
    """Attach the call-site arguments of operands that are the function's parameters."""
    if finding.function is None:
        return finding
    names = params.get(finding.function, [])
    sites = calls.get(finding.function.rpartition(".")[2], [])
    bound = []
    for operand in finding.operands:
        if operand in names:
            index = names.index(operand)
            args = tuple(dict.fromkeys(site[index] for site in sites if index < len(site)))
            if args:
                bound.append((operand, args))
    return replace(finding, bound=tuple(bound)) if bound else finding


def scan_file(path: str | os.PathLike[str]) -> list[Finding]:
    """Compute patterns in a Python file."""
    file = Path(path)
    try:
        source = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    return scan_source(source, str(file))


def scan_module(module: ModuleType) -> list[Finding]:
    """Compute patterns in an imported module's source."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError) as exc:
        raise RouteError(f"no source for module {module.__name__!r}: {exc}") from None
    return scan_source(source, inspect.getsourcefile(module) or module.__name__)
