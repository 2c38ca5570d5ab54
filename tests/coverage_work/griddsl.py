"""A grid DSL in miniature: pure Python on tuples of tuples, like the ARC DSL."""

from __future__ import annotations

Grid = tuple[tuple[int, ...], ...]


def grid(n: int = 10) -> Grid:
    return tuple(tuple((r * n + c) % 10 for c in range(n)) for r in range(n))


def recolor(g: Grid) -> Grid:
    return tuple(tuple((v * 3 + 1) % 10 for v in row) for row in g)


def transpose(g: Grid) -> Grid:
    return tuple(zip(*g, strict=True))


def solve(rounds: int) -> int:
    """A task: `rounds` DSL calls in a row; returns a checksum."""
    g = grid()
    for _ in range(rounds):
        g = transpose(recolor(g))
    return sum(map(sum, g))
