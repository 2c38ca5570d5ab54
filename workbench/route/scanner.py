"""Pattern scanner: compute patterns in Python source, found with `ast` (seed 000's scanner).

High: ``@``, matmul, dot, einsum, convolve, tensordot, and nested loops that multiply and
accumulate. Medium: sum, mean, max, min, prod, reduce, and loops that fold into an
accumulator. Low: elementwise arithmetic on arrays, map, and comprehensions or loops that
do arithmetic element by element. Each finding names its line, pattern, complexity, the
operand expressions and the router op that stands for it;
:func:`recommendations_for` adds sizes from live values and a recommended backend.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from workbench.errors import RouteError
from workbench.route.kinds import Complexity

if TYPE_CHECKING:
    import pandas as pd

    from workbench.route.router import Router

HIGH_CALLS = {
    "matmul": "matmul",
    "dot": "dot",
    "einsum": "einsum",
    "convolve": "convolve",
    "correlate": "convolve",
    "tensordot": "tensordot",
    "inner": "vdot",
    "vdot": "vdot",
}
MEDIUM_CALLS = {
    "sum": "sum",
    "mean": "mean",
    "max": "max",
    "min": "min",
    "prod": "prod",
    "amax": "max",
    "amin": "min",
    "argmax": "argmax",
    "argmin": "argmin",
    "average": "mean",
    "fsum": "sum",
    "reduce": "sum",
    "nansum": "sum",
    "nanmean": "mean",
}
_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Pow: "**",
    ast.Mod: "%",
}
BIN_OPS = {
    ast.Add: "add",
    ast.Sub: "subtract",
    ast.Mult: "multiply",
    ast.Div: "divide",
    ast.FloorDiv: "divide",
    ast.Pow: "multiply",
    ast.Mod: "divide",
}
ARRAY_MODULES = {"numpy", "cupy", "torch", "jax.numpy", "scipy", "scipy.signal"}
# Reductions called by a plain name: builtins, and from-imports of the standard library.
_PLAIN_REDUCERS = {
    ("builtins", "sum"),
    ("builtins", "max"),
    ("builtins", "min"),
    ("functools", "reduce"),
    ("math", "fsum"),
    ("math", "prod"),
    ("statistics", "mean"),
    ("builtins", "map"),
}


@dataclass(frozen=True)
class Finding:
    """One compute pattern in the source."""

    line: int
    code: str
    pattern: str
    complexity: Complexity
    op: str | None  # the router op that stands for it (None: arithmetic unknown)
    operands: tuple[str, ...]
    function: str | None  # enclosing function's qualified name; None at module level
    function_lines: tuple[int, ...]  # lines its code object may report (def, decorators)
    # For operands that are parameters of the enclosing function: the argument expressions
    # passed for them at calls found in the same source.
    bound: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _subscript_base(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Subscript):
        node = node.value
    return node


def _iter_operands(node: ast.expr) -> list[ast.expr]:
    """The collections a loop or comprehension walks: zip/enumerate args, range(len(x))."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("zip", "enumerate", "reversed", "sorted"):
            return [o for arg in node.args for o in _iter_operands(arg)]
        if node.func.id == "range" and node.args:
            stop = node.args[1] if len(node.args) > 1 else node.args[0]
            if (
                isinstance(stop, ast.Call)
                and isinstance(stop.func, ast.Name)
                and stop.func.id == "len"
                and stop.args
            ):
                return [stop.args[0]]
            return [stop]
    return [node]


def _arith(node: ast.AST) -> ast.BinOp | None:
    """The first arithmetic BinOp inside `node` (not string formatting or list repetition)."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.BinOp)
            and type(sub.op) in BIN_OPS
            and not _is_str(sub.left)
            and not isinstance(sub.left, (ast.List, ast.ListComp, ast.Tuple))
            and not isinstance(sub.right, (ast.List, ast.ListComp, ast.Tuple))
        ):
            return sub
    return None


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, (ast.JoinedStr, ast.Constant)) and isinstance(
        getattr(node, "value", ""), str
    )


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _mac(node: ast.AST) -> ast.BinOp | None:
    """An accumulation of a product: ``acc += x * y`` or ``acc = acc + x * y``."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.AugAssign)
            and isinstance(sub.op, (ast.Add, ast.Sub))
            and isinstance(sub.value, ast.BinOp)
            and isinstance(sub.value.op, ast.Mult)
        ):
            return sub.value
        if (
            isinstance(sub, ast.Assign)
            and isinstance(sub.value, ast.BinOp)
            and isinstance(sub.value.op, ast.Add)
        ):
            target = _text(sub.targets[0])
            for side, other in (
                (sub.value.left, sub.value.right),
                (sub.value.right, sub.value.left),
            ):
                if (
                    _text(side) == target
                    and isinstance(other, ast.BinOp)
                    and isinstance(other.op, ast.Mult)
                ):
                    return other
    return None


def _loop_depth(node: ast.AST) -> int:
    """How many for-loops deep `node` goes (itself included)."""
    inner = max((_loop_depth(child) for child in ast.iter_child_nodes(node)), default=0)
    return inner + (1 if isinstance(node, ast.For) else 0)


class _Scanner(ast.NodeVisitor):
    def __init__(self, lines: list[str], array_names: Collection[str]) -> None:
        self.lines = lines
        self.findings: list[Finding] = []
        self.consumed: set[int] = set()
        self.functions: list[tuple[str, tuple[int, ...]]] = []
        self.modules: dict[str, str] = {}  # local alias -> module name
        self.from_names: dict[str, tuple[str, str]] = {}  # local name -> (module, name)
        self.arrays: set[str] = set(array_names)
        self.params: dict[str, list[str]] = {}  # function qualname -> parameter names
        self.calls: dict[str, list[list[str]]] = {}  # function name -> argument texts per call

    # --- bookkeeping ---

    def _add(
        self,
        node: ast.AST,
        pattern: str,
        complexity: Complexity,
        op: str | None,
        operands: list[ast.expr],
        consume: ast.AST | None = None,
    ) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        seen: dict[str, None] = {}
        for operand in operands:
            base = _subscript_base(operand)
            if not isinstance(base, ast.Constant):
                seen.setdefault(_text(base), None)
        function = self.functions[-1] if self.functions else None
        self.findings.append(
            Finding(
                line,
                code,
                pattern,
                complexity,
                op,
                tuple(seen),
                function[0] if function else None,
                function[1] if function else (),
            )
        )
        for sub in ast.walk(consume if consume is not None else node):
            self.consumed.add(id(sub))

    def _is_array_module(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return self.modules.get(node.id, "").partition(".")[0] in {
                m.partition(".")[0] for m in ARRAY_MODULES
            }
        if isinstance(node, ast.Attribute):
            return self._is_array_module(node.value)
        return False

    def _is_array(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.arrays
        if isinstance(node, ast.Call):
            return isinstance(node.func, ast.Attribute) and self._is_array_module(node.func.value)
        if isinstance(node, ast.BinOp):
            return self._is_array(node.left) or self._is_array(node.right)
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            return self._is_array(node.value) if isinstance(node, ast.Attribute) else False
        return False

    # --- visitors ---

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.modules[alias.asname or alias.name.partition(".")[0]] = (
                alias.name if alias.asname else alias.name.partition(".")[0]
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if f"{module}.{alias.name}" in ARRAY_MODULES or alias.name in ("numpy", "cupy"):
                self.modules[alias.asname or alias.name] = f"{module}.{alias.name}"
            else:
                self.from_names[alias.asname or alias.name] = (module, alias.name)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer = self.functions[-1][0] + "." if self.functions else ""
        lines = tuple(sorted({node.lineno, *(d.lineno for d in node.decorator_list)}))
        self.functions.append((outer + node.name, lines))
        self.params[outer + node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Assign(self, node: ast.Assign) -> None:
        if self._is_array(node.value):
            self.arrays.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if id(node) not in self.consumed:
            if isinstance(node.op, ast.MatMult):
                self._add(
                    node, "a @ b", Complexity.HIGH, "matmul", [node.left, node.right], consume=node
                )
            elif type(node.op) in BIN_OPS and self._is_array(node):
                leaves = [
                    n
                    for n in ast.walk(node)
                    if not isinstance(n, ast.BinOp)
                    and isinstance(n, ast.expr)
                    and self._is_array(n)
                    and not isinstance(n, ast.Call)
                ]
                symbols = sorted(
                    {
                        _SYMBOLS[type(n.op)]
                        for n in ast.walk(node)
                        if isinstance(n, ast.BinOp) and type(n.op) in _SYMBOLS
                    }
                )
                self._add(
                    node,
                    f"elementwise {' '.join(symbols)} on arrays",
                    Complexity.LOW,
                    BIN_OPS[type(node.op)],
                    leaves or [node.left],
                )
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if id(node) not in self.consumed and isinstance(node.op, ast.MatMult):
            self._add(node, "a @= b", Complexity.HIGH, "matmul", [node.target, node.value])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if id(node) in self.consumed:
            self.generic_visit(node)
            return
        func = node.func
        if isinstance(func, ast.Name) and not node.keywords:
            self.calls.setdefault(func.id, []).append([_text(a) for a in node.args])
        name, method_of = None, None
        if isinstance(func, ast.Attribute):
            name = func.attr
            if not self._is_array_module(func.value) and not (
                isinstance(func.value, ast.Name)
                and func.value.id in ("math", "functools", "statistics")
            ):
                method_of = func.value
        elif isinstance(func, ast.Name):
            module, name = self.from_names.get(func.id, ("builtins", func.id))
            array_module = module.partition(".")[0] in {m.partition(".")[0] for m in ARRAY_MODULES}
            if not (array_module or (module, name) in _PLAIN_REDUCERS):
                self.generic_visit(node)  # a function of the user's, or another library's
                return
        args = list(node.args)
        if name in HIGH_CALLS and (method_of is None or name in ("dot", "matmul")):
            operands = ([method_of] if method_of is not None else []) + (
                args[1:] if name == "einsum" else args
            )
            self._add(
                node, f"{_text(func)}()", Complexity.HIGH, HIGH_CALLS[name], operands, consume=node
            )
        elif name == "map" and isinstance(func, ast.Name) and len(args) >= 2:
            body = _arith(args[0])
            self._add(
                node, "map()", Complexity.LOW, BIN_OPS[type(body.op)] if body else None, args[1:]
            )
        elif name in MEDIUM_CALLS and (args or method_of is not None):
            if name in ("max", "min") and isinstance(func, ast.Name) and len(args) != 1:
                self.generic_visit(node)  # max(a, b) of two values is not a reduction
                return
            target = (
                args[1]
                if name == "reduce" and len(args) > 1
                else (args[0] if args and method_of is None else method_of)
            )
            assert target is not None
            op = MEDIUM_CALLS[name]
            pattern = f"{_text(func)}()"
            operands = [target]
            if isinstance(target, ast.GeneratorExp | ast.ListComp):
                operands = [o for gen in target.generators for o in _iter_operands(gen.iter)]
                if (
                    isinstance(target.elt, ast.BinOp)
                    and isinstance(target.elt.op, ast.Mult)
                    and op == "sum"
                ):
                    op, pattern = "vdot", f"{_text(func)}() of products (dot product)"
                else:
                    pattern += " over a comprehension"
            self._add(node, pattern, Complexity.MEDIUM, op, operands, consume=node)
        self.generic_visit(node)

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp) -> None:
        if id(node) not in self.consumed:
            body = _arith(node.elt)
            loop_vars = {n for gen in node.generators for n in _names_in(gen.target)}
            if body is not None and _names_in(body) & loop_vars:
                operands = [o for gen in node.generators for o in _iter_operands(gen.iter)]
                self._add(
                    node,
                    "comprehension with arithmetic",
                    Complexity.LOW,
                    BIN_OPS[type(body.op)],
                    operands,
                )
        self.generic_visit(node)

    visit_ListComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_SetComp = _comprehension

    def visit_For(self, node: ast.For) -> None:
        if id(node) not in self.consumed:
            self._loop(node)
        self.generic_visit(node)

    def _loop(self, node: ast.For) -> None:
        loop_vars = _names_in(node.target)
        mac = _mac(node)
        depth = _loop_depth(node)
        if mac is not None and depth >= 2:
            operands = [_subscript_base(mac.left), _subscript_base(mac.right)]
            self._add(
                node,
                f"nested loops ({depth} deep) multiplying and accumulating (matmul/convolution style)",
                Complexity.HIGH,
                "matmul",
                operands,
            )
            return
        if depth >= 2:
            return  # the inner loop is looked at on its own
        if mac is not None:
            operands = [_subscript_base(mac.left), _subscript_base(mac.right)]
            self._add(
                node,
                "loop accumulating products (dot product)",
                Complexity.MEDIUM,
                "vdot",
                operands,
            )
            return
        for stmt in ast.walk(node):
            if (
                isinstance(stmt, ast.AugAssign)
                and isinstance(stmt.target, ast.Name)
                and _names_in(stmt.value) & (loop_vars | _subscript_vars(stmt.value))
            ):
                self._add(
                    node,
                    f"loop folding into {stmt.target.id}",
                    Complexity.MEDIUM,
                    "sum",
                    _iter_operands(node.iter),
                )
                return
        for stmt in ast.walk(node):
            value = None
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript):
                value = stmt.value
            elif (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and isinstance(stmt.value.func, ast.Attribute)
                and stmt.value.func.attr == "append"
                and stmt.value.args
            ):
                value = stmt.value.args[0]
            body = _arith(value) if value is not None else None
            if body is not None and _names_in(body) & loop_vars:
                self._add(
                    node,
                    "loop doing elementwise arithmetic",
                    Complexity.LOW,
                    BIN_OPS[type(body.op)],
                    _iter_operands(node.iter),
                )
                return


def _subscript_vars(node: ast.AST) -> set[str]:
    return {
        n.id
        for s in ast.walk(node)
        if isinstance(s, ast.Subscript)
        for n in ast.walk(s.slice)
        if isinstance(n, ast.Name)
    }


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
    scanner = _Scanner(source.splitlines(), array_names)
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


def recommendations_for(
    source: str,
    filename: str,
    namespace: Mapping[str, object],
    functions: pd.DataFrame | None,
    router: Router | None = None,
) -> pd.DataFrame:
    """The patterns of a cell that ran, with sizes from its live values, how often each
    ran (from the profile's `functions` table) and the backend to use, with the reason.

    Columns: line, code, pattern, complexity, operands, size, residency, runs, backend,
    reason, function, op, seed_table. Empty (with those columns) when nothing is found.
    """
    from workbench.route.recommend import recommendations

    return recommendations(source, filename, namespace, functions, router)
