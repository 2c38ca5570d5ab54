"""Small ast helpers and the name tables the pattern scanner matches against."""

from __future__ import annotations

import ast

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
SYMBOLS = {
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
PLAIN_REDUCERS = {
    ("builtins", "sum"),
    ("builtins", "max"),
    ("builtins", "min"),
    ("functools", "reduce"),
    ("math", "fsum"),
    ("math", "prod"),
    ("statistics", "mean"),
    ("builtins", "map"),
}


def text(node: ast.AST) -> str:
    return ast.unparse(node)


def subscript_base(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Subscript):
        node = node.value
    return node


def iter_operands(node: ast.expr) -> list[ast.expr]:
    """The collections a loop or comprehension walks: zip/enumerate args, range(len(x))."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("zip", "enumerate", "reversed", "sorted"):
            return [o for arg in node.args for o in iter_operands(arg)]
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


def arith(node: ast.AST) -> ast.BinOp | None:
    """The first arithmetic BinOp inside `node` (not string formatting or list repetition)."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.BinOp)
            and type(sub.op) in BIN_OPS
            and not is_str(sub.left)
            and not isinstance(sub.left, (ast.List, ast.ListComp, ast.Tuple))
            and not isinstance(sub.right, (ast.List, ast.ListComp, ast.Tuple))
        ):
            return sub
    return None


def is_str(node: ast.AST) -> bool:
    return isinstance(node, (ast.JoinedStr, ast.Constant)) and isinstance(
        getattr(node, "value", ""), str
    )


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def mac(node: ast.AST) -> ast.BinOp | None:
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
            target = text(sub.targets[0])
            for side, other in (
                (sub.value.left, sub.value.right),
                (sub.value.right, sub.value.left),
            ):
                if (
                    text(side) == target
                    and isinstance(other, ast.BinOp)
                    and isinstance(other.op, ast.Mult)
                ):
                    return other
    return None


def loop_depth(node: ast.AST) -> int:
    """How many for-loops deep `node` goes (itself included)."""
    inner = max((loop_depth(child) for child in ast.iter_child_nodes(node)), default=0)
    return inner + (1 if isinstance(node, ast.For) else 0)


def subscript_vars(node: ast.AST) -> set[str]:
    return {
        n.id
        for s in ast.walk(node)
        if isinstance(s, ast.Subscript)
        for n in ast.walk(s.slice)
        if isinstance(n, ast.Name)
    }
