"""Planted workloads for bench_whatif.py: each hides one change that pays (or one that
does not), shaped like code these users write. Every workload is deterministic.

* memoizable: word scores over a text where words repeat (Zipf-like);
* batchable: a small per-row transform with a fixed set-up, called from a comprehension;
* exception-driven: a price lookup that raises KeyError for missing keys, caught outside;
* wrapper-heavy: a thin wrapper that only passes its arguments on;
* not worth it: a checksum cheaper than hashing its (tuple) argument, half the calls repeats;
* offloadable: matrix products on host arrays (needs a GPU for the measured side).

Each case names the cell the baseline runs, the change, and for changes only the user can
write, the cell with that change made by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# --- memoizable ---------------------------------------------------------------------------


def word_score(word: str) -> int:
    """A pure, moderately costly function of its argument."""
    total = 0
    for i, ch in enumerate(word * 12):
        total = (total * 31 + ord(ch) * (i + 1)) % 1_000_003
    return total


def position_weight(i: int) -> int:
    """Per-position work that never repeats (the rest of the text's processing)."""
    total = i
    for k in range(60):
        total = (total * 17 + k) % 65_521
    return total


def text_score(words: list[str]) -> int:
    return sum(word_score(w) + position_weight(i) for i, w in enumerate(words))


def make_words(n: int = 12_000, vocabulary: int = 4_000, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghij") for _ in range(rng.randint(4, 10)))
        for _ in range(vocabulary)
    ]
    weights = [1.0 / (k + 1) for k in range(vocabulary)]
    return rng.choices(vocab, weights=weights, k=n)


# --- batchable ----------------------------------------------------------------------------


def scale_row(values: list[float]) -> list[float]:
    """Per call: a fixed set-up (the weights), then work proportional to the row."""
    weights = [1.0 / (k + 1) for k in range(24)]
    return [v * weights[i % 24] for i, v in enumerate(values)]


def scale_rows(rows: list[list[float]]) -> list[list[float]]:
    return [scale_row(r) for r in rows]


def scale_rows_batched(rows: list[list[float]]) -> list[list[float]]:
    """The same result with one call for the whole loop: the set-up paid once."""
    weights = [1.0 / (k + 1) for k in range(24)]
    return [[v * weights[i % 24] for i, v in enumerate(r)] for r in rows]


def make_rows(n: int = 40_000, seed: int = 2) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.random() for _ in range(rng.randint(1, 12))] for _ in range(n)]


# --- exception-driven ---------------------------------------------------------------------


def price(table: dict[str, float], key: str) -> float:
    return table[key] * 1.2


def basket_total(table: dict[str, float], keys: list[str]) -> float:
    total = 0.0
    for key in keys:
        try:
            total += price(table, key)
        except KeyError:
            total += 0.0
    return total


def basket_total_checked(table: dict[str, float], keys: list[str]) -> float:
    """The exception fix: check before the call instead of catching after it."""
    total = 0.0
    for key in keys:
        if key in table:
            total += price(table, key)
    return total


def make_basket(n: int = 150_000, seed: int = 3) -> tuple[dict[str, float], list[str]]:
    rng = random.Random(seed)
    table = {f"item{i}": rng.random() for i in range(500)}
    keys = [f"item{rng.randrange(1000)}" for _ in range(n)]  # about half are missing
    return table, keys


# --- wrapper-heavy ------------------------------------------------------------------------


def _area(width: float, height: float) -> float:
    return width * height


def area(width: float, height: float) -> float:
    return _area(width, height)


def total_area(rects: list[tuple[float, float]]) -> float:
    return sum(area(w, h) for w, h in rects)


def make_rects(n: int = 400_000, seed: int = 4) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.random(), rng.random()) for _ in range(n)]


# --- not worth it -------------------------------------------------------------------------


def checksum(grid: tuple[tuple[int, ...], ...]) -> int:
    """Cheaper than hashing its argument: a cache cannot pay."""
    return sum(map(sum, grid))


def checksums(grids: list[tuple[tuple[int, ...], ...]]) -> int:
    return sum(checksum(g) for g in grids)


def make_grids(n: int = 4_000, side: int = 16, seed: int = 5) -> list[tuple[tuple[int, ...], ...]]:
    rng = random.Random(seed)
    distinct = [
        tuple(tuple(rng.randrange(10) for _ in range(side)) for _ in range(side))
        for _ in range(n // 2)
    ]
    # every grid twice, as equal copies (a search meets the same grid again as a new object)
    copies = [tuple(tuple(row) for row in g) for g in distinct]
    mixed = distinct + copies
    rng.shuffle(mixed)
    return mixed


# --- offloadable (GPU) --------------------------------------------------------------------


def project(a: Any, b: Any) -> Any:
    import numpy as np

    return np.dot(a, b)


def projections(pairs: list[tuple[Any, Any]]) -> float:
    return float(sum(project(a, b).sum() for a, b in pairs))


def projections_gpu(pairs: list[tuple[Any, Any]]) -> float:
    """The same products on the GPU (copies both ways each call, as the host code has them)."""
    from workbench import gpu

    cp = gpu.cupy_or_none()
    assert cp is not None
    total = 0.0
    for a, b in pairs:
        total += float(cp.asnumpy(cp.dot(cp.asarray(a), cp.asarray(b))).sum())
    return total


def make_pairs(n: int = 12, side: int = 1500, seed: int = 6) -> list[tuple[Any, Any]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [(rng.random((side, side)), rng.random((side, side))) for _ in range(n)]


@dataclass(frozen=True)
class Case:
    """A planted case: the cell, the change, and the hand-made cell where one is needed."""

    name: str
    setup: str
    cell: str
    change: str
    by_hand: str | None = None
    needs_gpu: bool = False


CASES = (
    Case(
        "memoizable",
        "from whatif_cases import make_words, text_score\nWORDS = make_words()",
        "text_score(WORDS)",
        "memoize:whatif_cases.word_score",
    ),
    Case(
        "batchable",
        "from whatif_cases import make_rows, scale_rows, scale_rows_batched\nROWS = make_rows()",
        "scale_rows(ROWS)",
        "batch:whatif_cases.scale_row",
        by_hand="scale_rows_batched(ROWS)",
    ),
    Case(
        "exception-driven",
        "from whatif_cases import basket_total, basket_total_checked, make_basket\n"
        "TABLE, KEYS = make_basket()",
        "basket_total(TABLE, KEYS)",
        "exceptions:whatif_cases.price",
        by_hand="basket_total_checked(TABLE, KEYS)",
    ),
    Case(
        "wrapper-heavy",
        "from whatif_cases import make_rects, total_area\nRECTS = make_rects()",
        "total_area(RECTS)",
        "inline:whatif_cases.area",
    ),
    Case(
        "not worth it",
        "from whatif_cases import checksums, make_grids\nGRIDS = make_grids()",
        "checksums(GRIDS)",
        "memoize:whatif_cases.checksum",
    ),
    Case(
        "offloadable",
        "from whatif_cases import make_pairs, projections, projections_gpu\nPAIRS = make_pairs()",
        "projections(PAIRS)",
        "offload:whatif_cases.project",
        by_hand="projections_gpu(PAIRS)",
        needs_gpu=True,
    ),
)
