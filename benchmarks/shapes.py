"""Five workload shapes with different profiler costs, each with known parts.

Every shape is a callable of no arguments (`SHAPES[name](scale)` returns it) whose work
splits into named parts that can also be timed alone without a profiler (`parts`), so a
benchmark can build a ground truth of each category's share by plain timing:

* ``dsl``: lambda- and generator-expression-heavy grid code (a small DSL of frozensets and
  closures, driven by a search loop);
* ``methods``: method-heavy object code (a small vector class with dunder methods and
  properties, and ``fractions.Fraction``);
* ``numpy``: many NumPy calls on small arrays;
* ``recursion``: recursion about 800 frames deep;
* ``native``: mostly C work (sorting, hashing, joining, NumPy on large arrays) from a
  few Python calls.
"""

from __future__ import annotations

import fractions
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Work = Callable[[], object]


# --- dsl: closures, lambdas and generator expressions (the DSL itself in shape_dsl.py) ---

from shape_dsl import (  # noqa: E402
    Grid,
    dsl_apply,
    dsl_argmax,
    dsl_cells,
    dsl_colorfilter,
    dsl_compose,
    dsl_mfilter,
    dsl_rbind,
    dsl_shift,
    dsl_size,
)


def dsl_search(grids: list[Grid]) -> int:
    """The framework part of the DSL shape: straight-line programs over the DSL."""
    found = 0
    for grid in grids:
        cells = dsl_cells(grid)
        for color in range(4):
            part = dsl_colorfilter(cells, color)
            moved = dsl_apply(dsl_rbind(dsl_shift, (1, 1)), frozenset([part, cells]))
            big = dsl_mfilter(moved, dsl_compose(lambda n: n > 3, dsl_size))
            if big:
                found += dsl_size(dsl_argmax(big, dsl_size))  # type: ignore[arg-type]
    return found


def dsl_grids(scale: float) -> list[Grid]:
    rng = np.random.default_rng(1)
    count = max(int(500 * scale), 1)
    return [tuple(map(tuple, rng.integers(0, 4, (14, 14)).tolist())) for _ in range(count)]


# --- methods: dunder methods, properties, Fraction --------------------------------------------


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def __add__(self, other: Vec) -> Vec:
        return Vec(self.x + other.x, self.y + other.y)

    def __mul__(self, k: float) -> Vec:
        return Vec(self.x * k, self.y * k)

    @property
    def norm2(self) -> float:
        return self.x * self.x + self.y * self.y

    def dot(self, other: Vec) -> float:
        return self.x * other.x + self.y * other.y


def method_work(n: int) -> float:
    total = Vec(0.0, 0.0)
    step = Vec(0.5, 0.25)
    acc = 0.0
    for i in range(n):
        total = total + step * (i % 3)
        acc += total.dot(step) / (1.0 + total.norm2)
    return acc


def fraction_work(n: int) -> fractions.Fraction:
    acc = fractions.Fraction(0)
    for i in range(1, n):
        acc += fractions.Fraction(1, i % 17 + 1) - fractions.Fraction(1, i % 13 + 2)
    return acc


# --- numpy: many calls on small arrays ---------------------------------------------------------


def numpy_work(n: int) -> float:
    rng = np.random.default_rng(2)
    a = rng.random(16)
    b = rng.random(16)
    total = 0.0
    for _ in range(n):
        c = np.add(a, b)
        total += float(c.sum()) + float(np.dot(a, b)) + float(np.maximum(a, 0.5).mean())
    return total


# --- recursion: deep stacks --------------------------------------------------------------------


def descend(depth: int, width: int) -> int:
    if depth == 0:
        return sum(range(width))
    return descend(depth - 1, width) + 1


def recursion_work(n: int) -> int:
    return sum(descend(800, 4) for _ in range(n))


# --- native: mostly C ------------------------------------------------------------------------


def native_work(n: int) -> int:
    rng = np.random.default_rng(3)
    total = 0
    for _ in range(n):
        values = rng.random(200_000)
        listed = values.tolist()
        listed.sort()
        total += len(hashlib.sha256(np.sort(values).tobytes()).hexdigest())
        total += len(",".join(map(str, listed[:20_000])))
    return total


@dataclass(frozen=True)
class Shape:
    """A workload and its parts: (label, work) pairs that together do the whole work."""

    name: str
    parts: tuple[tuple[str, Work], ...]

    def run(self) -> None:
        for _label, work in self.parts:
            work()


def shape(name: str, scale: float = 1.0) -> Shape:
    """The workload `name` at `scale` (1.0: about 0.3-0.6 s plain on this machine)."""
    if name == "dsl":
        grids = dsl_grids(scale)
        return Shape(name, (("DSL search", lambda: dsl_search(grids)),))
    if name == "methods":
        n = max(int(100_000 * scale), 2)
        return Shape(
            name,
            (("Vec", lambda: method_work(n)), ("fractions", lambda: fraction_work(n // 3))),
        )
    if name == "numpy":
        n = max(int(25_000 * scale), 1)
        return Shape(name, (("numpy calls", lambda: numpy_work(n)),))
    if name == "recursion":
        n = max(int(600 * scale), 1)
        return Shape(name, (("recursion", lambda: recursion_work(n)),))
    if name == "native":
        n = max(int(4 * scale), 1)
        return Shape(name, (("native", lambda: native_work(n)),))
    raise ValueError(f"unknown shape {name!r}: one of {', '.join(SHAPES)}")


SHAPES = ("dsl", "methods", "numpy", "recursion", "native")
