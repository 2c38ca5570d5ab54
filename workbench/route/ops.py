"""The op registry: every op the router knows, with its complexity (seed 002) and kernels.

NumPy ops carry real kernels for all three backends: a pure-Python kernel
(:mod:`workbench.route.pyops`) and one array function that runs with ``xp = numpy`` or
``xp = cupy``. scikit-learn and PyTorch entries carry the complexity metadata of seed 002's
per-converter tables; they are recommended (``recommend_backend``) but not run.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType, ModuleType
from typing import Any

import numpy as np

from workbench.errors import RouteError
from workbench.route import pyops
from workbench.route import shapes as sh
from workbench.route.kinds import Complexity
from workbench.route.op_spec import KINDS, ArrayFn, OpSpec, ShapeFn, UnknownOpError

__all__ = [
    "BUILTIN_NAMES",
    "HOST_FNS",
    "KINDS",
    "ArrayFn",
    "OpRegistry",
    "OpSpec",
    "ShapeFn",
    "UnknownOpError",
]


def _binary(np_name: str) -> ArrayFn:
    def run(xp: ModuleType, arrays: Sequence[Any], params: sh.Params) -> Any:
        return getattr(xp, np_name)(arrays[0], arrays[1])

    return run


def _unary(np_name: str) -> ArrayFn:
    def run(xp: ModuleType, arrays: Sequence[Any], params: sh.Params) -> Any:
        return getattr(xp, np_name)(arrays[0])

    return run


def _reduce(np_name: str) -> ArrayFn:
    def run(xp: ModuleType, arrays: Sequence[Any], params: sh.Params) -> Any:
        return getattr(xp, np_name)(arrays[0], axis=params["axis"])

    return run


def _numpy_ops() -> list[OpSpec]:
    ops = []
    elementwise = {
        "add": ("add", "a + b"),
        "subtract": ("subtract", "a - b"),
        "multiply": ("multiply", "a * b"),
        "divide": ("divide", "a / b (true division)"),
        "maximum": ("maximum", "elementwise larger value (NaN wins)"),
        "minimum": ("minimum", "elementwise smaller value (NaN wins)"),
    }
    for name, (np_name, text) in elementwise.items():
        ops.append(
            OpSpec(
                name,
                "numpy",
                Complexity.LOW,
                "elementwise",
                text,
                2,
                analyze=sh.elementwise,
                array_fn=_binary(np_name),
                python_fn=pyops.KERNELS[name],
            )
        )
    for name, kind, text in [
        ("negative", "elementwise", "-a"),
        ("absolute", "elementwise", "abs(a)"),
        ("square", "elementwise", "a * a"),
        ("sqrt", "math", "square root"),
        ("exp", "math", "e to the power a"),
    ]:
        ops.append(
            OpSpec(
                name,
                "numpy",
                Complexity.LOW,
                kind,
                text,
                1,
                analyze=sh.elementwise,
                array_fn=_unary(name),
                python_fn=pyops.KERNELS[name],
            )
        )
    ops.append(
        OpSpec(
            "reshape",
            "numpy",
            Complexity.LOW,
            "view",
            "the same elements, a new shape",
            1,
            (("shape", None),),
            sh.reshape,
            lambda xp, a, p: xp.reshape(a[0], p["shape"]),
            pyops.reshape,
            same_dtype=True,
        )
    )
    ops.append(
        OpSpec(
            "transpose",
            "numpy",
            Complexity.LOW,
            "view",
            "axes reversed or permuted",
            1,
            (("axes", None),),
            sh.transpose,
            lambda xp, a, p: xp.transpose(a[0], p["axes"]),
            pyops.transpose,
            same_dtype=True,
        )
    )
    for name, text in [
        ("sum", "sum of the elements (or along an axis)"),
        ("mean", "arithmetic mean"),
        ("max", "largest element (NaN wins)"),
        ("min", "smallest element (NaN wins)"),
        ("prod", "product of the elements"),
        ("argmax", "index of the largest element"),
        ("argmin", "index of the smallest element"),
    ]:
        ops.append(
            OpSpec(
                name,
                "numpy",
                Complexity.MEDIUM,
                "reduce",
                text,
                1,
                (("axis", None),),
                sh.reduction,
                _reduce(name),
                pyops.KERNELS[name],
            )
        )
    ops.append(
        OpSpec(
            "vdot",
            "numpy",
            Complexity.MEDIUM,
            "matmul",
            "dot product of two flattened vectors (seed 002's 'dot product')",
            2,
            analyze=sh.vdot,
            array_fn=lambda xp, a, p: xp.vdot(a[0], a[1]),
            python_fn=pyops.vdot,
            aliases=("dot_product", "inner_product"),
        )
    )
    # seed 002: NumPyOp::Dot.complexity() is High and recommend_backend(Dot, 50_000) is GPU.
    ops.append(
        OpSpec(
            "dot",
            "numpy",
            Complexity.HIGH,
            "matmul",
            "np.dot: a matrix product for 2-D operands",
            2,
            analyze=sh.matmul,
            array_fn=lambda xp, a, p: xp.dot(a[0], a[1]),
            python_fn=pyops.matmul,
        )
    )
    ops.append(
        OpSpec(
            "matmul",
            "numpy",
            Complexity.HIGH,
            "matmul",
            "a @ b",
            2,
            analyze=sh.matmul,
            array_fn=lambda xp, a, p: xp.matmul(a[0], a[1]),
            python_fn=pyops.matmul,
            aliases=("gemm", "@"),
        )
    )
    ops.append(
        OpSpec(
            "tensordot",
            "numpy",
            Complexity.HIGH,
            "matmul",
            "sum of products over the given axes",
            2,
            (("axes", 2),),
            sh.tensordot,
            lambda xp, a, p: xp.tensordot(a[0], a[1], axes=p["axes"]),
            pyops.tensordot,
        )
    )
    ops.append(
        OpSpec(
            "convolve",
            "numpy",
            Complexity.HIGH,
            "convolve",
            "1-D discrete convolution",
            2,
            (("mode", "full"),),
            sh.convolve,
            lambda xp, a, p: xp.convolve(a[0], a[1], mode=p["mode"]),
            pyops.convolve,
            aliases=("convolution",),
        )
    )
    ops.append(
        OpSpec(
            "einsum",
            "numpy",
            Complexity.HIGH,
            "einsum",
            "Einstein summation over subscripts",
            -1,
            (("subscripts", None),),
            sh.einsum,
            lambda xp, a, p: xp.einsum(p["subscripts"], *a),
            pyops.einsum,
        )
    )
    ops.append(
        OpSpec(
            "standard_scale",
            "numpy",
            Complexity.LOW,
            "reduce",
            "per-column (x - mean) / std of a samples x features array (StandardScaler)",
            1,
            analyze=sh.standard_scale,
            array_fn=_standard_scale,
            python_fn=pyops.standard_scale,
            aliases=("standardize",),
        )
    )
    return ops


# What a NumPy user writes on exact ndarrays: operators and array methods (C calls).
HOST_FNS: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "negative": operator.neg,
    "absolute": operator.abs,
    "sum": np.ndarray.sum,
    "mean": np.ndarray.mean,
    "max": np.ndarray.max,
    "min": np.ndarray.min,
    "prod": np.ndarray.prod,
    "argmax": np.ndarray.argmax,
    "argmin": np.ndarray.argmin,
    "matmul": operator.matmul,
    "dot": np.ndarray.dot,
    "reshape": np.ndarray.reshape,
    "transpose": np.ndarray.transpose,
}


def _standard_scale(xp: ModuleType, a: Sequence[Any], p: sh.Params) -> Any:
    x = xp.asanyarray(a[0])  # subclasses (masked arrays) keep their semantics
    return (x - xp.mean(x, axis=0)) / xp.std(x, axis=0)


# seed 002's per-converter tables, completed with ops of the same shape of work.
_FRAMEWORK_OPS: tuple[tuple[str, str, Complexity, str], ...] = (
    ("sklearn", "StandardScaler", Complexity.LOW, "per-column shift and scale, O(n)"),
    ("sklearn", "MinMaxScaler", Complexity.LOW, "per-column rescale, O(n)"),
    ("sklearn", "Normalizer", Complexity.LOW, "per-row scale, O(n)"),
    ("sklearn", "LinearRegression", Complexity.MEDIUM, "least squares, O(n d^2)"),
    ("sklearn", "LogisticRegression", Complexity.MEDIUM, "iterative linear model"),
    ("sklearn", "Ridge", Complexity.MEDIUM, "regularised least squares"),
    ("sklearn", "KMeans", Complexity.HIGH, "distances to every centre per iteration"),
    ("sklearn", "PCA", Complexity.HIGH, "SVD of the data matrix"),
    ("sklearn", "KNeighborsClassifier", Complexity.HIGH, "all-pairs distances"),
    ("torch", "TensorCreation", Complexity.LOW, "torch.tensor / zeros / ones"),
    ("torch", "ReLU", Complexity.LOW, "elementwise max(x, 0)"),
    ("torch", "Add", Complexity.LOW, "elementwise sum"),
    ("torch", "Linear", Complexity.MEDIUM, "x @ W.T + b"),
    ("torch", "Softmax", Complexity.MEDIUM, "exp, sum and divide along an axis"),
    ("torch", "Forward", Complexity.HIGH, "a model's forward pass"),
    ("torch", "Conv2d", Complexity.HIGH, "2-D convolution"),
    ("torch", "Attention", Complexity.HIGH, "softmax(QK^T)V"),
)


def _framework_ops() -> list[OpSpec]:
    return [
        OpSpec(f"{framework}.{name}", framework, complexity, "", text)
        for framework, name, complexity, text in _FRAMEWORK_OPS
    ]


def _norm(key: str) -> str:
    return key.replace("_", "").replace(" ", "").lower()


class OpRegistry:
    """Ops by name. Names are matched without case or underscores; NumPy ops answer to
    ``add`` and ``numpy.add``; framework ops to ``sklearn.KMeans`` or ``KMeans``."""

    def __init__(self, specs: Sequence[OpSpec] = ()) -> None:
        self._specs: dict[str, OpSpec] = {}
        self._index: dict[str, OpSpec] = {}
        for spec in specs:
            self.register(spec)

    @classmethod
    def builtin(cls) -> OpRegistry:
        """NumPy ops with kernels, plus the scikit-learn and PyTorch metadata."""
        numpy_ops = [replace(spec, host_fn=HOST_FNS.get(spec.name)) for spec in _numpy_ops()]
        return cls([*numpy_ops, *_framework_ops()])

    def register(self, spec: OpSpec) -> None:
        """Add an op (replacing one of the same name)."""
        if spec.kind and spec.kind not in KINDS:
            raise RouteError(f"op {spec.name!r}: kind must be one of {', '.join(KINDS)}")
        self._specs[spec.name] = spec
        short = spec.name.rpartition(".")[2]
        keys = [spec.name, f"{spec.framework}.{short}", *spec.aliases]
        if spec.framework == "numpy" or _norm(short) not in self._index:
            keys.append(short)
        for key in keys:
            self._index[key] = spec
            self._index[_norm(key)] = spec

    def get(self, name: str) -> OpSpec:
        """The op called `name`; UnknownOpError with close names when there is none."""
        spec = self._index.get(name)
        if spec is not None:
            return spec
        if not isinstance(name, str):
            raise UnknownOpError(f"an op name must be a string, got {name!r}")
        spec = self._index.get(_norm(name))
        if spec is not None:
            return spec
        close = difflib.get_close_matches(name, list(self._specs), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownOpError(
            f"unknown op {name!r}.{hint} Registered: {', '.join(sorted(self.runnable_names()))} "
            "(and scikit-learn/PyTorch names for recommendations); see Router().ops()"
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._index or _norm(name) in self._index)

    def __iter__(self) -> Iterator[OpSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> dict[str, OpSpec]:
        """Every name and alias an op answers to (exact spellings), with its op."""
        return dict(self._index)

    def runnable_names(self) -> list[str]:
        """Names of the ops that have kernels."""
        return [spec.name for spec in self if spec.runnable]


BUILTIN_NAMES: Mapping[str, Complexity] = MappingProxyType(
    {spec.name: spec.complexity for spec in OpRegistry.builtin()}
)
