"""The ast visitor that finds compute patterns (used by :mod:`workbench.route.scanner`)."""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass

from workbench.route.astutil import (
    ARRAY_MODULES,
    BIN_OPS,
    HIGH_CALLS,
    MEDIUM_CALLS,
    PLAIN_REDUCERS,
    SYMBOLS,
    arith,
    iter_operands,
    loop_depth,
    mac,
    names_in,
    subscript_base,
    subscript_vars,
    text,
)
from workbench.route.kinds import Complexity


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


class Scanner(ast.NodeVisitor):
    """Walks a module once; `findings` holds what it found, in visiting order."""

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
            base = subscript_base(operand)
            if not isinstance(base, ast.Constant):
                seen.setdefault(text(base), None)
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
                        SYMBOLS[type(n.op)]
                        for n in ast.walk(node)
                        if isinstance(n, ast.BinOp) and type(n.op) in SYMBOLS
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
            self.calls.setdefault(func.id, []).append([text(a) for a in node.args])
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
            if not (array_module or (module, name) in PLAIN_REDUCERS):
                self.generic_visit(node)  # a function of the user's, or another library's
                return
        args = list(node.args)
        if name in HIGH_CALLS and (method_of is None or name in ("dot", "matmul")):
            operands = ([method_of] if method_of is not None else []) + (
                args[1:] if name == "einsum" else args
            )
            self._add(
                node, f"{text(func)}()", Complexity.HIGH, HIGH_CALLS[name], operands, consume=node
            )
        elif name == "map" and isinstance(func, ast.Name) and len(args) >= 2:
            body = arith(args[0])
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
            pattern = f"{text(func)}()"
            operands = [target]
            if isinstance(target, ast.GeneratorExp | ast.ListComp):
                operands = [o for gen in target.generators for o in iter_operands(gen.iter)]
                if (
                    isinstance(target.elt, ast.BinOp)
                    and isinstance(target.elt.op, ast.Mult)
                    and op == "sum"
                ):
                    op, pattern = "vdot", f"{text(func)}() of products (dot product)"
                else:
                    pattern += " over a comprehension"
            self._add(node, pattern, Complexity.MEDIUM, op, operands, consume=node)
        self.generic_visit(node)

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp) -> None:
        if id(node) not in self.consumed:
            body = arith(node.elt)
            loop_vars = {n for gen in node.generators for n in names_in(gen.target)}
            if body is not None and names_in(body) & loop_vars:
                operands = [o for gen in node.generators for o in iter_operands(gen.iter)]
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
        loop_vars = names_in(node.target)
        product = mac(node)
        depth = loop_depth(node)
        if product is not None and depth >= 2:
            operands = [subscript_base(product.left), subscript_base(product.right)]
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
        if product is not None:
            operands = [subscript_base(product.left), subscript_base(product.right)]
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
                and names_in(stmt.value) & (loop_vars | subscript_vars(stmt.value))
            ):
                self._add(
                    node,
                    f"loop folding into {stmt.target.id}",
                    Complexity.MEDIUM,
                    "sum",
                    iter_operands(node.iter),
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
            body = arith(value) if value is not None else None
            if body is not None and names_in(body) & loop_vars:
                self._add(
                    node,
                    "loop doing elementwise arithmetic",
                    Complexity.LOW,
                    BIN_OPS[type(body.op)],
                    iter_operands(node.iter),
                )
                return
