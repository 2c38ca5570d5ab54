"""Workloads for the what-if tests, in a real module (the patch finds functions by module)."""

from __future__ import annotations

from typing import Any

SEEN: list[int] = []
SCALE = 3


def slow_square(n: int) -> int:
    """Pure, and costly enough that a cache pays."""
    total = 0
    for i in range(2_000):
        total += (i * n) % 7
    return total + n * n


def squares(values: list[int]) -> int:
    return sum(slow_square(v) for v in values)


def remember(n: int) -> int:
    """Not pure: it changes a global list."""
    SEEN.append(n)
    return n


def scaled(n: int) -> int:
    """Reads a global that the caller rebinds."""
    return n * SCALE


def bump_and_scale(values: list[int]) -> int:
    global SCALE
    total = 0
    for v in values:
        SCALE = v % 3
        total += scaled(v)
    return total


def fill(bucket: list[int], n: int) -> list[int]:
    """Changes its argument."""
    bucket.append(n)
    return bucket


def _leaf(a: int, b: int) -> int:
    return a + b


def leaf_wrapper(a: int, b: int) -> int:
    return _leaf(a, b)


def star_wrapper(*args: Any, **kwargs: Any) -> Any:
    return _leaf(*args, **kwargs)


def swapped(a: int, b: int) -> int:
    return _leaf(b, a)


def sum_leaves(n: int) -> int:
    return sum(leaf_wrapper(i, 1) for i in range(n))


def lookup(table: dict[int, int], key: int) -> int:
    return table[key]


def lookups(table: dict[int, int], keys: list[int]) -> int:
    total = 0
    for key in keys:
        try:
            total += lookup(table, key)
        except KeyError:
            total += 0
    return total


def numbers(n: int) -> Any:
    """A generator function: nothing to cache."""
    yield from range(n)


class Box:
    def __init__(self, k: int) -> None:
        self.k = k

    def times(self, n: int) -> int:
        return self.k * n

    @staticmethod
    def double(n: int) -> int:
        return 2 * n
