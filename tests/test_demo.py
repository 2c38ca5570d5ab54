"""Tests of the embedded ARC demo: DSL primitives, task loading, search and batch path."""

from __future__ import annotations

import random
import types
from typing import Any

import numpy as np
import pytest

from workbench import gpu
from workbench.demo import dsl, load_tasks, run_demo, solve_task
from workbench.demo.dsl import Grid
from workbench.demo.gpu_batch import (
    GEOMETRIC_OPS,
    BatchOp,
    GpuBatch,
    GpuUnavailableError,
    Recolor,
    numpy_batch,
    stack_grids,
)
from workbench.demo.search import build_library, cell_accuracy, is_valid_grid, learn_colour_map
from workbench.demo.tasks import Pair, Task

G: Grid = (
    (1, 2, 3),
    (4, 5, 6),
)

SCENE: Grid = (
    (0, 0, 0, 0, 0),
    (0, 1, 1, 0, 2),
    (0, 1, 0, 0, 2),
    (0, 0, 3, 0, 0),
    (0, 3, 0, 0, 0),
)


# --- DSL primitives ---------------------------------------------------------------------


def test_rot90_turns_clockwise() -> None:
    assert dsl.rot90(G) == ((4, 1), (5, 2), (6, 3))


def test_rot180_turns_half_way() -> None:
    assert dsl.rot180(G) == ((6, 5, 4), (3, 2, 1))


def test_rot270_turns_anticlockwise() -> None:
    assert dsl.rot270(G) == ((3, 6), (2, 5), (1, 4))


def test_flips_mirror_rows_and_row_order() -> None:
    assert dsl.flip_h(G) == ((3, 2, 1), (6, 5, 4))
    assert dsl.flip_v(G) == ((4, 5, 6), (1, 2, 3))


def test_transpose_swaps_rows_and_columns() -> None:
    assert dsl.transpose(G) == ((1, 4), (2, 5), (3, 6))


def test_four_quarter_turns_are_the_identity() -> None:
    assert dsl.rot90(dsl.rot90(dsl.rot90(dsl.rot90(SCENE)))) == SCENE
    assert dsl.rot270(dsl.rot90(G)) == G


def test_flipping_twice_is_the_identity() -> None:
    assert dsl.flip_h(dsl.flip_h(SCENE)) == SCENE
    assert dsl.flip_v(dsl.flip_v(SCENE)) == SCENE


def test_shift_moves_content_and_fills_the_gap() -> None:
    assert dsl.shift(G, 1, 0) == ((0, 0, 0), (1, 2, 3))
    assert dsl.shift(G, 0, -1, fill=9) == ((2, 3, 9), (5, 6, 9))
    assert dsl.shift(G, -1, 2) == ((0, 0, 4), (0, 0, 0))


def test_crop_takes_a_window_and_refuses_one_past_the_edge() -> None:
    assert dsl.crop(SCENE, 1, 1, 2, 2) == ((1, 1), (1, 0))
    with pytest.raises(ValueError, match="crop window"):
        dsl.crop(G, 1, 1, 2, 2)


def test_trim_drops_background_border() -> None:
    assert dsl.trim(SCENE) == ((1, 1, 0, 2), (1, 0, 0, 2), (0, 3, 0, 0), (3, 0, 0, 0))
    framed = ((0, 0, 0, 0), (0, 7, 8, 0), (0, 0, 0, 0))
    assert dsl.trim(framed) == ((7, 8),)
    with pytest.raises(ValueError):
        dsl.trim(((0, 0), (0, 0)))


def test_halves_split_the_grid() -> None:
    grid = ((1, 2, 3, 4), (5, 6, 7, 8))
    assert dsl.left_half(grid) == ((1, 2), (5, 6))
    assert dsl.right_half(grid) == ((3, 4), (7, 8))
    assert dsl.top_half(grid) == ((1, 2, 3, 4),)
    assert dsl.bottom_half(grid) == ((5, 6, 7, 8),)
    assert dsl.right_half(G) == ((3,), (6,))


def test_recolor_and_replace_colors() -> None:
    assert dsl.recolor(((1, 2), (2, 1)), 2, 7) == ((1, 7), (7, 1))
    assert dsl.replace_colors(((1, 2), (3, 1)), {1: 2, 2: 1}) == ((2, 1), (3, 2))


def test_fill_paints_indices_inside_the_grid() -> None:
    assert dsl.fill(G, 0, [(0, 0), (1, 2), (5, 5)]) == ((0, 2, 3), (4, 5, 0))


def test_paint_and_overlay() -> None:
    obj = frozenset({(9, (0, 1)), (8, (1, 0))})
    assert dsl.paint(G, obj) == ((1, 9, 3), (8, 5, 6))
    top = ((0, 7, 0), (0, 0, 7))
    assert dsl.overlay(G, top) == ((1, 7, 3), (4, 5, 7))


def test_palette_and_colour_counts() -> None:
    assert dsl.palette(SCENE) == frozenset({0, 1, 2, 3})
    assert dsl.count_colors(SCENE) == {0: 18, 1: 3, 2: 2, 3: 2}
    assert dsl.most_common_color(SCENE) == 0
    assert dsl.least_common_color(SCENE) == 2  # 2 and 3 tie: the smaller wins


def test_objects_counts_components_by_connectivity() -> None:
    assert len(dsl.objects(SCENE)) == 4  # the two 3s touch only by a corner
    assert len(dsl.objects(SCENE, diagonal=True)) == 3
    assert len(dsl.objects(SCENE, without_background=False)) == 5
    blob = dsl.largest_object(SCENE)
    assert blob == frozenset({(1, (1, 1)), (1, (1, 2)), (1, (2, 1))})


def test_objects_can_join_several_colours() -> None:
    grid = ((1, 2, 0), (0, 0, 0), (0, 0, 3))
    assert len(dsl.objects(grid, univalued=False)) == 2
    assert len(dsl.objects(grid)) == 3


def test_smallest_object_and_bounding_box() -> None:
    assert dsl.smallest_object(SCENE) == frozenset({(3, (3, 2))})
    blob = dsl.largest_object(SCENE)
    assert dsl.bounding_box(blob) == (1, 1, 2, 2)
    assert dsl.subgrid(blob, SCENE) == ((1, 1), (1, 0))
    with pytest.raises(ValueError):
        dsl.largest_object(((0, 0), (0, 0)))


def test_box_is_the_bounding_box_border() -> None:
    patch = frozenset({(0, 0), (2, 2)})
    assert dsl.box(patch) == frozenset(
        {(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)}
    )


def test_outline_rings_non_background_cells() -> None:
    grid = ((0, 0, 0), (0, 5, 0), (0, 0, 0))
    assert dsl.outline(grid, 2) == ((0, 2, 0), (2, 5, 2), (0, 2, 0))


def test_upscale_and_downscale_are_inverse() -> None:
    big = dsl.upscale(((1, 2),), 2)
    assert big == ((1, 1, 2, 2), (1, 1, 2, 2))
    assert dsl.downscale(big, 2) == ((1, 2),)
    with pytest.raises(ValueError):
        dsl.downscale(G, 2)


def test_concatenation_tiling_and_mirroring() -> None:
    assert dsl.hconcat(G, G) == ((1, 2, 3, 1, 2, 3), (4, 5, 6, 4, 5, 6))
    assert dsl.vconcat(G, G) == (*G, *G)
    assert dsl.tile(((1,),), 2, 3) == ((1, 1, 1), (1, 1, 1))
    assert dsl.mirror_h(G) == ((1, 2, 3, 3, 2, 1), (4, 5, 6, 6, 5, 4))
    assert dsl.mirror_v(G) == ((1, 2, 3), (4, 5, 6), (4, 5, 6), (1, 2, 3))
    with pytest.raises(ValueError):
        dsl.hconcat(G, ((1,),))


def test_gravity_drops_cells_to_the_bottom() -> None:
    grid = ((1, 0), (0, 2), (3, 0))
    assert dsl.gravity(grid) == ((0, 0), (1, 0), (3, 2))


def test_compress_drops_repeated_rows_and_columns() -> None:
    grid = ((1, 1, 2), (1, 1, 2), (3, 3, 4))
    assert dsl.compress(grid) == ((1, 2), (3, 4))


# --- tasks -------------------------------------------------------------------------------


def test_load_tasks_reads_the_real_arc_agi_1_training_split() -> None:
    tasks = load_tasks()
    ids = [task.id for task in tasks]
    assert len(tasks) == 400
    assert ids == sorted(ids)
    assert all(len(task_id) == 8 and int(task_id, 16) >= 0 for task_id in ids)
    first = tasks[0]
    assert first.id == "007bbfb7"
    assert dsl.shape(first.train[0].input) == (3, 3)
    assert dsl.shape(first.train[0].output) == (9, 9)
    assert isinstance(first.test[0].output, tuple)


def test_load_tasks_takes_the_first_n_or_a_seeded_sample() -> None:
    assert [t.id for t in load_tasks(3)] == ["007bbfb7", "00d62c1b", "017c7c7b"]
    sample = [t.id for t in load_tasks(5, seed=1)]
    assert sample == [t.id for t in load_tasks(5, seed=1)]
    assert sample == sorted(sample)
    assert len(load_tasks(2, "eval")) == 2


def test_load_tasks_rejects_an_unknown_split_with_a_hint() -> None:
    with pytest.raises(ValueError, match="use one of train, eval"):
        load_tasks(1, split="test")


# --- search ------------------------------------------------------------------------------


def _task(*pairs: tuple[Grid, Grid]) -> Task:
    train = tuple(Pair(a, b) for a, b in pairs[:-1])
    return Task("handmade", train, (Pair(*pairs[-1]),))


def test_solve_task_finds_a_one_step_program() -> None:
    task = _task((G, dsl.rot90(G)), (SCENE, dsl.rot90(SCENE)), (G[::-1], dsl.rot90(G[::-1])))
    result = solve_task(task)
    assert result.solved
    assert result.program == "rot90"
    assert result.test_correct == result.test_total == 1


def test_solve_task_finds_a_two_step_program() -> None:
    def program(grid: Grid) -> Grid:
        return dsl.mirror_v(dsl.flip_h(grid))

    task = _task((G, program(G)), (SCENE, program(SCENE)), (dsl.rot90(G), program(dsl.rot90(G))))
    result = solve_task(task)
    assert result.solved
    assert result.test_correct == 1


def test_library_holds_task_colour_recolourings_and_a_learned_map() -> None:
    task = _task((((1, 2),), ((3, 2),)), (((2, 1),), ((2, 3),)))
    names = {candidate.name for candidate in build_library(task)}
    assert "recolor(1,3)" in names
    assert "replace_colors(1:3)" in names
    assert "rot90 -> recolor(1,3)" in names
    assert learn_colour_map(task.train) == {1: 3}


def test_grid_checks_and_cell_accuracy() -> None:
    assert is_valid_grid(G)
    assert not is_valid_grid(())
    assert not is_valid_grid(((1, 2), (3,)))
    assert not is_valid_grid(((10,),))
    assert cell_accuracy(((1, 2),), ((1, 3),)) == 0.5
    assert cell_accuracy(None, G) == 0.0


def test_run_demo_is_deterministic_and_solves_some_tasks() -> None:
    first = run_demo(n_tasks=10, use_gpu=False)
    second = run_demo(n_tasks=10, use_gpu=False)
    assert first == second
    assert first.tasks_run == 10
    assert first.tasks_solved >= 1
    assert first.test_correct >= 1
    assert first.candidates_tried > first.tasks_run


# --- batch path ----------------------------------------------------------------------------

_DSL_OF: dict[str, Any] = {
    "rot90": dsl.rot90,
    "rot180": dsl.rot180,
    "rot270": dsl.rot270,
    "flip_h": dsl.flip_h,
    "flip_v": dsl.flip_v,
    "transpose": dsl.transpose,
}


def _random_grids(rng: random.Random, count: int, rows: int, cols: int) -> list[Grid]:
    return [
        tuple(tuple(rng.randrange(10) for _ in range(cols)) for _ in range(rows))
        for _ in range(count)
    ]


def _dsl_reference(grids: list[Grid], op: BatchOp) -> list[Grid]:
    if isinstance(op, Recolor):
        return [dsl.recolor(grid, op.source, op.target) for grid in grids]
    return [_DSL_OF[op](grid) for grid in grids]


def test_numpy_batch_matches_the_pure_python_dsl_on_random_grids() -> None:
    rng = random.Random(7)
    ops: list[BatchOp] = [*GEOMETRIC_OPS, Recolor(3, 8), Recolor(0, 5)]
    for rows, cols in ((1, 1), (3, 5), (6, 2), (7, 7)):
        grids = _random_grids(rng, 4, rows, cols)
        results = numpy_batch(grids, ops)
        for op in ops:
            name = op.name if isinstance(op, Recolor) else op
            assert results[name] == _dsl_reference(grids, op), (name, rows, cols)
            assert all(type(v) is int for grid in results[name] for row in grid for v in row)


def test_stack_grids_refuses_mixed_shapes() -> None:
    with pytest.raises(ValueError, match="one shape"):
        stack_grids([G, SCENE])


def _no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu, "probe", lambda: gpu.GpuStatus(False, "CuPy is not installed"))


def test_run_demo_without_a_gpu_reports_why_it_did_not_use_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_gpu(monkeypatch)
    result = run_demo(n_tasks=2)
    assert result.gpu_used is False
    assert "CuPy is not installed" in result.gpu_reason


def test_run_demo_demanding_a_gpu_without_one_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch)
    with pytest.raises(GpuUnavailableError, match="use_gpu=True"):
        run_demo(n_tasks=2, use_gpu=True)


class _HostArray(np.ndarray):
    """A NumPy array with CuPy's .get(), for a stand-in cupy module."""

    def get(self) -> np.ndarray:
        return np.asarray(self)


def _fake_cupy() -> types.ModuleType:
    """numpy dressed as cupy: the same array functions, and arrays with .get()."""
    fake = types.ModuleType("fake_cupy")
    functions: dict[str, object] = {
        "asarray": lambda a: np.asarray(a).view(_HostArray),
        "ascontiguousarray": lambda a: np.ascontiguousarray(a).view(_HostArray),
        "rot90": np.rot90,
        "flip": np.flip,
        "swapaxes": np.swapaxes,
        "where": np.where,
    }
    for name, function in functions.items():
        setattr(fake, name, function)
    return fake


def test_gpu_batch_path_is_wired_into_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu, "probe", lambda: gpu.GpuStatus(True, "1 CUDA device(s)", ("Fake",)))
    monkeypatch.setattr(gpu, "cupy_or_none", _fake_cupy)
    on_gpu = run_demo(n_tasks=3, use_gpu=True)
    on_cpu = run_demo(n_tasks=3, use_gpu=False)
    assert on_gpu.gpu_used
    assert "Fake" in on_gpu.gpu_reason
    assert sum(r.gpu_preloaded for r in on_gpu.results) > 0
    assert [r.program for r in on_gpu.results] == [r.program for r in on_cpu.results]
    assert on_gpu.test_correct == on_cpu.test_correct


@pytest.mark.skipif(not gpu.probe().available, reason="needs CuPy and a CUDA GPU")
def test_cupy_batch_matches_the_numpy_reference() -> None:
    cupy = gpu.cupy_or_none()
    assert cupy is not None
    batch = GpuBatch(cupy, "test")
    rng = random.Random(11)
    ops: list[BatchOp] = [*GEOMETRIC_OPS, Recolor(2, 9)]
    for rows, cols in ((1, 1), (4, 9), (30, 30)):
        grids = _random_grids(rng, 5, rows, cols)
        assert batch.transform(grids, ops) == numpy_batch(grids, ops)
