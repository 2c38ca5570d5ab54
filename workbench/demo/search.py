"""The program-search framework on top of the DSL.

For each task a library of candidate programs (one or two DSL steps, some of them
parameterised by the task's colours) is tried in order against the train pairs; the
first that maps every train input to its output is the solution and is scored on the
test pairs. An :class:`Evaluator` runs the candidates, caches each step's result keyed by
(step, grid), turns failing candidates into misses and keeps the books.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial

from workbench.demo import dsl
from workbench.demo.dsl import Grid
from workbench.demo.gpu_batch import BatchOp, GpuBatch, Recolor, open_gpu_batch
from workbench.demo.tasks import Pair, Task, load_tasks

MAX_SIDE = 30
"""ARC grids are at most 30 x 30; a step that makes a bigger one has failed."""

COLOURS = frozenset(range(10))
"""The colours an ARC grid may hold."""

Transform = Callable[[Grid], Grid]


# --- candidate programs ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One named grid-to-grid transform; the name is its cache key.

    ``batch`` names the same transform for the GPU batch path, where it has one.
    """

    name: str
    fn: Transform = field(compare=False)
    batch: BatchOp | None = None


@dataclass(frozen=True)
class Candidate:
    """A program: steps applied left to right."""

    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        """The steps' names joined by arrows."""
        return " -> ".join(step.name for step in self.steps)


def _crop_largest(grid: Grid) -> Grid:
    return dsl.subgrid(dsl.largest_object(grid), grid)


def _crop_largest_any(grid: Grid) -> Grid:
    return dsl.subgrid(dsl.largest_object(grid, diagonal=True, univalued=False), grid)


def _crop_smallest(grid: Grid) -> Grid:
    return dsl.subgrid(dsl.smallest_object(grid), grid)


# Object steps: each finds the grid's objects again, as the primitives of a real program
# search do (seed 003's cache on ``objects`` hit every time); the Evaluator caches whole
# steps by name, not what the steps compute inside.


def _alone(grid: Grid, obj: dsl.Object) -> Grid:
    background = dsl.most_common_color(grid)
    return dsl.paint(dsl.blank(dsl.height(grid), dsl.width(grid), background), obj)


def _without(grid: Grid, obj: dsl.Object) -> Grid:
    return dsl.fill(grid, dsl.most_common_color(grid), dsl.patch_indices(obj))


def _keep_largest(grid: Grid) -> Grid:
    return _alone(grid, dsl.largest_object(grid))


def _keep_smallest(grid: Grid) -> Grid:
    return _alone(grid, dsl.smallest_object(grid))


def _remove_largest(grid: Grid) -> Grid:
    return _without(grid, dsl.largest_object(grid))


def _remove_smallest(grid: Grid) -> Grid:
    return _without(grid, dsl.smallest_object(grid))


def _crop_largest_of(grid: Grid, color: int) -> Grid:
    """The largest object of one colour, cropped (seed 004's ``colorfilter(objects(I))``)."""
    mine = [obj for obj in dsl.objects(grid) if min(obj)[0] == color]
    if not mine:
        raise ValueError(f"no object of colour {color}")
    return dsl.subgrid(max(mine, key=dsl._object_order), grid)


def _keep_colour(grid: Grid, color: int) -> Grid:
    """The objects of one colour alone on the background (``colorfilter(objects(I))``)."""
    mine = [obj for obj in dsl.objects(grid) if min(obj)[0] == color]
    if not mine:
        raise ValueError(f"no object of colour {color}")
    return _alone(grid, frozenset().union(*mine))


def _box_largest(grid: Grid) -> Grid:
    obj = dsl.largest_object(grid)
    colour = min(obj)[0]
    return dsl.fill(grid, colour, dsl.box(obj))


def base_steps() -> tuple[Step, ...]:
    """The task-independent steps, in the order the search tries them."""
    return (
        Step("rot90", dsl.rot90, "rot90"),
        Step("rot180", dsl.rot180, "rot180"),
        Step("rot270", dsl.rot270, "rot270"),
        Step("flip_h", dsl.flip_h, "flip_h"),
        Step("flip_v", dsl.flip_v, "flip_v"),
        Step("transpose", dsl.transpose, "transpose"),
        Step("mirror_h", dsl.mirror_h),
        Step("mirror_v", dsl.mirror_v),
        Step("tile(1,2)", partial(dsl.tile, rows=1, cols=2)),
        Step("tile(2,1)", partial(dsl.tile, rows=2, cols=1)),
        Step("tile(2,2)", partial(dsl.tile, rows=2, cols=2)),
        Step("upscale(2)", partial(dsl.upscale, k=2)),
        Step("upscale(3)", partial(dsl.upscale, k=3)),
        Step("downscale(2)", partial(dsl.downscale, k=2)),
        Step("downscale(3)", partial(dsl.downscale, k=3)),
        Step("left_half", dsl.left_half),
        Step("right_half", dsl.right_half),
        Step("top_half", dsl.top_half),
        Step("bottom_half", dsl.bottom_half),
        Step("trim", dsl.trim),
        Step("compress", dsl.compress),
        Step("gravity", dsl.gravity),
        Step("shift(1,0)", partial(dsl.shift, di=1, dj=0)),
        Step("shift(0,1)", partial(dsl.shift, di=0, dj=1)),
        Step("crop_largest", _crop_largest),
        Step("crop_largest_any", _crop_largest_any),
        Step("crop_smallest", _crop_smallest),
        Step("keep_largest", _keep_largest),
        Step("keep_smallest", _keep_smallest),
        Step("remove_largest", _remove_largest),
        Step("remove_smallest", _remove_smallest),
        Step("box_largest", _box_largest),
    )


def task_steps(task: Task) -> tuple[Step, ...]:
    """Steps parameterised by the task: recolourings, outlines and a learned colour map."""
    seen_in = _colours(pair.input for pair in task.train)
    seen_out = _colours(pair.output for pair in task.train)
    steps = [
        _recolor_step(Recolor(a, b)) for a in sorted(seen_in) for b in sorted(seen_out) if a != b
    ]
    steps.extend(
        Step(f"outline({c})", partial(dsl.outline, color=c)) for c in sorted(seen_out - seen_in)
    )
    steps.extend(
        Step(f"crop_largest_of({c})", partial(_crop_largest_of, color=c)) for c in sorted(seen_in)
    )
    steps.extend(Step(f"keep_colour({c})", partial(_keep_colour, color=c)) for c in sorted(seen_in))
    mapping = learn_colour_map(task.train)
    if mapping:
        label = ",".join(f"{a}:{b}" for a, b in sorted(mapping.items()))
        steps.append(Step(f"replace_colors({label})", partial(dsl.replace_colors, mapping=mapping)))
    return tuple(steps)


def _recolor_step(op: Recolor) -> Step:
    return Step(op.name, partial(dsl.recolor, source=op.source, target=op.target), op)


def _colours(grids: Iterable[Grid]) -> frozenset[int]:
    return frozenset(colour for grid in grids for colour in dsl.palette(grid))


def learn_colour_map(pairs: Sequence[Pair]) -> dict[int, int]:
    """A colour map consistent with every same-shape train pair, or {} where none is."""
    mapping: dict[int, int] = {}
    for pair in pairs:
        if dsl.shape(pair.input) != dsl.shape(pair.output):
            return {}
        for before, after in _cell_pairs(pair.input, pair.output):
            if mapping.setdefault(before, after) != after:
                return {}
    return {a: b for a, b in mapping.items() if a != b}


def _row_hits(predicted: tuple[int, ...], expected: tuple[int, ...]) -> int:
    return sum([a == b for a, b in zip(predicted, expected, strict=True)])


def _cell_pairs(left: Grid, right: Grid) -> Iterator[tuple[int, int]]:
    for row_a, row_b in zip(left, right, strict=True):
        yield from zip(row_a, row_b, strict=True)


def build_library(task: Task) -> list[Candidate]:
    """Every candidate for a task: single steps first, then two-step compositions."""
    singles = base_steps() + task_steps(task)
    library = [Candidate((step,)) for step in singles]
    library.extend(Candidate((first, second)) for first in base_steps() for second in singles)
    return library


# --- evaluation ------------------------------------------------------------------------


def is_valid_grid(grid: Grid) -> bool:
    """True for a non-empty rectangular grid of colours 0-9, at most 30 x 30."""
    if not grid or len(grid) > MAX_SIDE:
        return False
    cols = len(grid[0])
    if not 0 < cols <= MAX_SIDE or any(len(row) != cols for row in grid):
        return False
    return set().union(*grid) <= COLOURS


def cell_accuracy(predicted: Grid | None, expected: Grid) -> float:
    """Share of cells right; 0.0 when the shapes differ or there is no prediction."""
    if predicted is None or dsl.shape(predicted) != dsl.shape(expected):
        return 0.0
    right = sum(_row_hits(a, b) for a, b in zip(predicted, expected, strict=True))
    return right / (len(expected) * len(expected[0]))


@dataclass
class EvalStats:
    """What an evaluator did: cache traffic and how steps failed."""

    cache_hits: int = 0
    cache_misses: int = 0
    errors: int = 0
    invalid: int = 0
    preloaded: int = 0


class Evaluator:
    """Runs candidates, caching each step's result by (step name, input grid)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, Grid], Grid | None] = {}
        self.stats = EvalStats()

    def preload(self, name: str, grids: Sequence[Grid], results: Sequence[Grid]) -> None:
        """Seed the cache with results computed elsewhere (the GPU batch path)."""
        for grid, result in zip(grids, results, strict=True):
            self._cache[(name, grid)] = result if is_valid_grid(result) else None
            self.stats.preloaded += 1

    def apply(self, step: Step, grid: Grid) -> Grid | None:
        """One step on one grid, or None where it fails or makes no valid grid."""
        key = (step.name, grid)
        if key in self._cache:
            self.stats.cache_hits += 1
            return self._cache[key]
        self.stats.cache_misses += 1
        result = self._compute(step, grid)
        self._cache[key] = result
        return result

    def _compute(self, step: Step, grid: Grid) -> Grid | None:
        try:
            result = step.fn(grid)
        except (IndexError, ValueError):
            self.stats.errors += 1
            return None
        if not is_valid_grid(result):
            self.stats.invalid += 1
            return None
        return result

    def run(self, candidate: Candidate, grid: Grid) -> Grid | None:
        """A whole program on one grid, or None where a step fails."""
        current: Grid | None = grid
        for step in candidate.steps:
            if current is None:
                return None
            current = self.apply(step, current)
        return current


# --- solving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskResult:
    """How the search did on one task.

    ``program`` is the solution, if one fitted every train pair; otherwise the test
    predictions come from ``best_guess``, the candidate closest on the first train pair.
    """

    task_id: str
    solved: bool
    program: str | None
    best_guess: str | None
    candidates_tried: int
    test_correct: int
    test_total: int
    best_train_score: float
    outcomes: tuple[tuple[str, int], ...]
    cache_hits: int
    cache_misses: int
    gpu_preloaded: int


@dataclass
class _Books:
    """Running record of one task's search."""

    tried: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    best_score: float = 0.0
    best: Candidate | None = None

    def record(self, candidate: Candidate, outcome: str, score: float) -> None:
        self.tried += 1
        self.outcomes[outcome] += 1
        if score > self.best_score:
            self.best_score, self.best = score, candidate


class Solver:
    """Searches a task's candidate library; optionally pre-computes steps on the GPU."""

    def __init__(self, gpu: GpuBatch | None = None) -> None:
        self.gpu = gpu

    def solve(self, task: Task) -> TaskResult:
        """Try candidates in order until one fits every train pair, then score the tests."""
        evaluator = Evaluator()
        library = build_library(task)
        if self.gpu is not None:
            self._preload(task, library, evaluator)
        books = _Books()
        solution = next((c for c in library if self._fits(c, task, evaluator, books)), None)
        program = solution or books.best
        predictions = [
            evaluator.run(program, pair.input) if program else None for pair in task.test
        ]
        correct = sum(1 for p, pair in zip(predictions, task.test, strict=True) if p == pair.output)
        return TaskResult(
            task_id=task.id,
            solved=solution is not None,
            program=solution.name if solution else None,
            best_guess=program.name if program else None,
            candidates_tried=books.tried,
            test_correct=correct,
            test_total=len(task.test),
            best_train_score=1.0 if solution else books.best_score,
            outcomes=tuple(sorted(books.outcomes.items())),
            cache_hits=evaluator.stats.cache_hits,
            cache_misses=evaluator.stats.cache_misses,
            gpu_preloaded=evaluator.stats.preloaded,
        )

    def _fits(self, candidate: Candidate, task: Task, evaluator: Evaluator, books: _Books) -> bool:
        for number, pair in enumerate(task.train):
            predicted = evaluator.run(candidate, pair.input)
            if predicted == pair.output:
                continue
            outcome = "failed" if predicted is None else "mismatch"
            score = cell_accuracy(predicted, pair.output) if number == 0 else 0.0
            books.record(candidate, outcome, score)
            return False
        books.record(candidate, "solved", 1.0)
        return True

    def _preload(self, task: Task, library: Sequence[Candidate], evaluator: Evaluator) -> None:
        inputs = [pair.input for pair in task.train]
        if self.gpu is None or len({dsl.shape(grid) for grid in inputs}) != 1:
            return
        ops = _batch_ops(library)
        for name, results in self.gpu.transform(inputs, ops).items():
            evaluator.preload(name, inputs, results)


def _batch_ops(library: Sequence[Candidate]) -> list[BatchOp]:
    """The library's first steps that the batch path can compute, each once."""
    ops: dict[str, BatchOp] = {}
    for candidate in library:
        first = candidate.steps[0]
        if first.batch is not None:
            ops.setdefault(first.name, first.batch)
    return list(ops.values())


def solve_task(task: Task, *, gpu: GpuBatch | None = None) -> TaskResult:
    """Search one task's candidates (on the CPU unless a GPU batch path is given)."""
    return Solver(gpu).solve(task)


# --- the demo --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    """Totals of one demo run, and each task's result."""

    tasks_run: int
    tasks_solved: int
    test_correct: int
    test_total: int
    candidates_tried: int
    cache_hits: int
    cache_misses: int
    gpu_used: bool
    gpu_reason: str
    solved_ids: tuple[str, ...]
    results: tuple[TaskResult, ...] = field(repr=False)
    seconds: float = field(default=0.0, compare=False)

    def summary(self) -> str:
        """One line: what was solved and whether the GPU path ran."""
        return (
            f"{self.tasks_solved}/{self.tasks_run} ARC tasks solved, {self.test_correct}/"
            f"{self.test_total} test outputs right, {self.candidates_tried:,} candidates tried; "
            f"{self.gpu_reason if not self.gpu_used else 'GPU batch path used'}"
        )


def run_demo(n_tasks: int = 40, *, use_gpu: bool | None = None, seed: int = 0) -> DemoResult:
    """Search n_tasks ARC-AGI-1 training tasks, drawn by seed; the same inputs give the same result.

    use_gpu=None uses the GPU batch path where CuPy and a GPU are usable, True demands it
    (GpuUnavailableError without), False keeps to the CPU.
    """
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be at least 1, got {n_tasks}")
    started = time.perf_counter()
    batch, reason = open_gpu_batch(use_gpu)
    solver = Solver(batch)
    results = tuple(solver.solve(task) for task in load_tasks(n_tasks, "train", seed=seed))
    return DemoResult(
        tasks_run=len(results),
        tasks_solved=sum(1 for r in results if r.solved),
        test_correct=sum(r.test_correct for r in results),
        test_total=sum(r.test_total for r in results),
        candidates_tried=sum(r.candidates_tried for r in results),
        cache_hits=sum(r.cache_hits for r in results),
        cache_misses=sum(r.cache_misses for r in results),
        gpu_used=batch is not None,
        gpu_reason=reason,
        solved_ids=tuple(r.task_id for r in results if r.solved),
        results=results,
        seconds=time.perf_counter() - started,
    )
