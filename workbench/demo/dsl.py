"""Grid primitives of the demo DSL, in plain Python.

A grid is a tuple of rows, each a tuple of colours 0-9. Objects are frozensets of
``(colour, (row, column))`` cells. The code favours small helpers and generator
expressions over speed on purpose: it is the call-heavy part the profiler is shown on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

T = TypeVar("T")
Grid = tuple[tuple[int, ...], ...]
Index = tuple[int, int]
Cell = tuple[int, Index]
Object = frozenset[Cell]
Patch = frozenset[Cell] | frozenset[Index]

__all__ = [
    "Cell",
    "Grid",
    "Index",
    "Object",
    "Patch",
    "bottom_half",
    "bounding_box",
    "box",
    "compress",
    "count_colors",
    "crop",
    "downscale",
    "fill",
    "flip_h",
    "flip_v",
    "gravity",
    "hconcat",
    "largest_object",
    "least_common_color",
    "left_half",
    "mirror_h",
    "mirror_v",
    "most_common_color",
    "objects",
    "outline",
    "overlay",
    "paint",
    "palette",
    "recolor",
    "replace_colors",
    "right_half",
    "rot90",
    "rot180",
    "rot270",
    "shift",
    "smallest_object",
    "subgrid",
    "tile",
    "top_half",
    "transpose",
    "trim",
    "upscale",
    "vconcat",
]

# --- helpers -------------------------------------------------------------------------


def make_grid(rows: Iterable[Iterable[int]]) -> Grid:
    """Freeze an iterable of rows into a grid."""
    return tuple(tuple(row) for row in rows)


def height(grid: Grid) -> int:
    """Number of rows."""
    return len(grid)


def width(grid: Grid) -> int:
    """Number of columns (0 for an empty grid)."""
    return len(grid[0]) if grid else 0


def shape(grid: Grid) -> tuple[int, int]:
    """(height, width) of a grid."""
    return height(grid), width(grid)


def column(grid: Grid, j: int) -> tuple[int, ...]:
    """Column j, top to bottom."""
    return tuple([row[j] for row in grid])


def indices(grid: Grid) -> Iterator[Index]:
    """Every (row, column) of a grid, row by row."""
    for i in range(height(grid)):
        for j in range(width(grid)):
            yield i, j


def cells(grid: Grid) -> Iterator[Cell]:
    """Every (colour, (row, column)) of a grid, row by row."""
    for i, j in indices(grid):
        yield grid[i][j], (i, j)


def in_bounds(grid: Grid, i: int, j: int) -> bool:
    """True when (i, j) lies inside the grid."""
    return 0 <= i < len(grid) and 0 <= j < len(grid[0])


def blank(rows: int, cols: int, color: int) -> Grid:
    """A rows x cols grid of one colour."""
    return make_grid((color for _ in range(cols)) for _ in range(rows))


def neighbours(index: Index, diagonal: bool) -> tuple[Index, ...]:
    """The 4 (or 8, with diagonal) neighbours of an index, in or out of any grid."""
    i, j = index
    sides = ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1))
    if not diagonal:
        return sides
    return (*sides, (i - 1, j - 1), (i - 1, j + 1), (i + 1, j - 1), (i + 1, j + 1))


def patch_indices(patch: Patch) -> frozenset[Index]:
    """The indices a patch covers, whether it holds cells or bare indices."""
    return frozenset(_index_of(item) for item in patch)


def _index_of(item: Cell | Index) -> Index:
    first, second = item
    if isinstance(second, tuple):
        return second
    return first, second


def _require_positive(k: int, what: str) -> None:
    if k < 1:
        raise ValueError(f"{what} must be at least 1, got {k}")


# --- geometry --------------------------------------------------------------------------


def rot90(grid: Grid) -> Grid:
    """Rotate a quarter turn clockwise."""
    return tuple(tuple(reversed(column(grid, j))) for j in range(width(grid)))


def rot180(grid: Grid) -> Grid:
    """Rotate a half turn."""
    return tuple(tuple(reversed(row)) for row in reversed(grid))


def rot270(grid: Grid) -> Grid:
    """Rotate a quarter turn anticlockwise."""
    return tuple(column(grid, j) for j in reversed(range(width(grid))))


def flip_h(grid: Grid) -> Grid:
    """Mirror left to right (each row reversed)."""
    return tuple(tuple(reversed(row)) for row in grid)


def flip_v(grid: Grid) -> Grid:
    """Mirror top to bottom (row order reversed)."""
    return tuple(reversed(grid))


def transpose(grid: Grid) -> Grid:
    """Swap rows and columns (mirror on the main diagonal)."""
    return tuple(column(grid, j) for j in range(width(grid)))


def shift(grid: Grid, di: int, dj: int, fill: int = 0) -> Grid:
    """Move the content by (di, dj), filling uncovered cells with a colour."""
    blank_row = (fill,) * width(grid)
    rows = _slide(grid, di, blank_row)
    return tuple(_slide(row, dj, fill) for row in rows)


def _slide(line: tuple[T, ...], offset: int, pad: T) -> tuple[T, ...]:
    """A line moved by offset places (forward when positive), padded to its length."""
    size = len(line)
    if offset >= 0:
        kept = line[: max(size - offset, 0)]
        return (pad,) * (size - len(kept)) + kept
    kept = line[min(-offset, size) :]
    return kept + (pad,) * (size - len(kept))


# --- cropping --------------------------------------------------------------------------


def crop(grid: Grid, top: int, left: int, rows: int, cols: int) -> Grid:
    """The rows x cols window whose corner is (top, left); ValueError past the edge."""
    if top < 0 or left < 0 or rows < 1 or cols < 1:
        raise ValueError(f"bad crop window {(top, left, rows, cols)}")
    if top + rows > height(grid) or left + cols > width(grid):
        raise ValueError(f"crop window {(top, left, rows, cols)} leaves a {shape(grid)} grid")
    return tuple(row[left : left + cols] for row in grid[top : top + rows])


def trim(grid: Grid, background: int = 0) -> Grid:
    """Drop outer rows and columns made only of the background colour."""
    keep_rows = [i for i in range(height(grid)) if not _uniform(grid[i], background)]
    keep_cols = [j for j in range(width(grid)) if not _uniform(column(grid, j), background)]
    if not keep_rows or not keep_cols:
        raise ValueError("trim: the grid is all background")
    top, bottom = keep_rows[0], keep_rows[-1]
    left, right = keep_cols[0], keep_cols[-1]
    return crop(grid, top, left, bottom - top + 1, right - left + 1)


def _uniform(line: Iterable[int], color: int) -> bool:
    return all(value == color for value in line)


def left_half(grid: Grid) -> Grid:
    """The left half (the middle column, if any, is dropped)."""
    return crop(grid, 0, 0, height(grid), width(grid) // 2)


def right_half(grid: Grid) -> Grid:
    """The right half (the middle column, if any, is dropped)."""
    half = width(grid) // 2
    return crop(grid, 0, width(grid) - half, height(grid), half)


def top_half(grid: Grid) -> Grid:
    """The top half (the middle row, if any, is dropped)."""
    return crop(grid, 0, 0, height(grid) // 2, width(grid))


def bottom_half(grid: Grid) -> Grid:
    """The bottom half (the middle row, if any, is dropped)."""
    half = height(grid) // 2
    return crop(grid, height(grid) - half, 0, half, width(grid))


# --- colours ---------------------------------------------------------------------------


def palette(grid: Grid) -> frozenset[int]:
    """The set of colours in a grid."""
    return frozenset(value for value, _ in cells(grid))


def count_colors(grid: Grid) -> dict[int, int]:
    """How many cells each colour covers, by colour."""
    counts: Counter[int] = Counter()
    for row in grid:
        counts.update(row)
    return {color: counts[color] for color in sorted(counts)}


def most_common_color(grid: Grid) -> int:
    """The colour covering most cells (the smallest colour on a tie)."""
    counts = count_colors(grid)
    return max(counts, key=lambda color: (counts[color], -color))


def least_common_color(grid: Grid) -> int:
    """The colour covering fewest cells (the smallest colour on a tie)."""
    counts = count_colors(grid)
    return min(counts, key=lambda color: (counts[color], color))


def recolor(grid: Grid, source: int, target: int) -> Grid:
    """Paint every cell of one colour with another."""
    return make_grid([target if value == source else value for value in row] for row in grid)


def replace_colors(grid: Grid, mapping: Mapping[int, int]) -> Grid:
    """Map colours through a dict; colours not in it stay."""
    return make_grid([mapping.get(value, value) for value in row] for row in grid)


def fill(grid: Grid, color: int, where: Iterable[Index]) -> Grid:
    """Paint the given indices (those inside the grid) with one colour."""
    targets = {index for index in where if in_bounds(grid, *index)}
    return make_grid(
        [color if (i, j) in targets else grid[i][j] for j in range(width(grid))]
        for i in range(height(grid))
    )


def paint(grid: Grid, obj: Object) -> Grid:
    """Draw an object's cells onto a grid (cells outside it are dropped)."""
    colors = {index: value for value, index in obj if in_bounds(grid, *index)}
    return make_grid(
        [colors.get((i, j), grid[i][j]) for j in range(width(grid))] for i in range(height(grid))
    )


def overlay(under: Grid, over: Grid, background: int = 0) -> Grid:
    """Lay one grid over another of the same shape; background cells of the top show through."""
    if shape(under) != shape(over):
        raise ValueError(f"overlay needs equal shapes, got {shape(under)} and {shape(over)}")
    return make_grid(
        (_top_or_bottom(top, bottom, background) for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(over, under, strict=True)
    )


def _top_or_bottom(top: int, bottom: int, background: int) -> int:
    return bottom if top == background else top


# --- objects ---------------------------------------------------------------------------


def objects(
    grid: Grid,
    *,
    diagonal: bool = False,
    univalued: bool = True,
    without_background: bool = True,
) -> frozenset[Object]:
    """Connected components (4- or 8-connected), as frozensets of (colour, index) cells."""
    background = most_common_color(grid)
    seen: set[Index] = set()
    found: list[Object] = []
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if (i, j) in seen:
                continue
            if without_background and value == background:
                seen.add((i, j))
                continue
            found.append(_component(grid, (i, j), seen, diagonal, univalued, background))
    return frozenset(found)


def _cell(grid: Grid, index: Index) -> int:
    return grid[index[0]][index[1]]


def _component(
    grid: Grid, start: Index, seen: set[Index], diagonal: bool, univalued: bool, background: int
) -> Object:
    color = _cell(grid, start)
    rows, cols = shape(grid)
    seen.add(start)
    frontier = [start]
    members: list[Cell] = []
    while frontier:
        index = frontier.pop()
        members.append((_cell(grid, index), index))
        for other in neighbours(index, diagonal):
            i, j = other
            if other in seen or not (0 <= i < rows and 0 <= j < cols):
                continue
            value = grid[i][j]
            if (value == color) if univalued else (value != background):
                seen.add(other)
                frontier.append(other)
    return frozenset(members)


def _object_order(obj: Object) -> tuple[int, tuple[Cell, ...]]:
    return len(obj), tuple(sorted(obj))


def largest_object(grid: Grid, *, diagonal: bool = False, univalued: bool = True) -> Object:
    """The object with most cells (ties broken by its cells, so always the same one)."""
    return max(objects(grid, diagonal=diagonal, univalued=univalued), key=_object_order)


def smallest_object(grid: Grid, *, diagonal: bool = False, univalued: bool = True) -> Object:
    """The object with fewest cells (ties broken by its cells, so always the same one)."""
    return min(objects(grid, diagonal=diagonal, univalued=univalued), key=_object_order)


def bounding_box(patch: Patch) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a patch, bottom and right included."""
    spots = patch_indices(patch)
    if not spots:
        raise ValueError("bounding_box of an empty patch")
    rows = [i for i, _ in spots]
    cols = [j for _, j in spots]
    return min(rows), min(cols), max(rows), max(cols)


def subgrid(patch: Patch, grid: Grid) -> Grid:
    """The part of the grid inside a patch's bounding box."""
    top, left, bottom, right = bounding_box(patch)
    return crop(grid, top, left, bottom - top + 1, right - left + 1)


def box(patch: Patch) -> frozenset[Index]:
    """The indices on the border of a patch's bounding box."""
    top, left, bottom, right = bounding_box(patch)
    return frozenset(
        (i, j)
        for i in range(top, bottom + 1)
        for j in range(left, right + 1)
        if i in (top, bottom) or j in (left, right)
    )


def outline(grid: Grid, color: int, background: int = 0) -> Grid:
    """Paint background cells that touch a non-background cell (4-way) with a colour."""
    edge = [index for index in indices(grid) if _touches(grid, index, background)]
    return fill(grid, color, edge)


def _touches(grid: Grid, index: Index, background: int) -> bool:
    if _cell(grid, index) != background:
        return False
    return any(
        in_bounds(grid, *other) and _cell(grid, other) != background
        for other in neighbours(index, False)
    )


# --- scaling and tiling ---------------------------------------------------------------


def upscale(grid: Grid, k: int) -> Grid:
    """Blow every cell up into a k x k block."""
    _require_positive(k, "upscale factor")
    return make_grid([value for value in row for _ in range(k)] for row in grid for _ in range(k))


def downscale(grid: Grid, k: int) -> Grid:
    """Keep one cell of each k x k block; ValueError unless k divides both sides."""
    _require_positive(k, "downscale factor")
    if height(grid) % k or width(grid) % k:
        raise ValueError(f"downscale by {k} needs sides divisible by {k}, got {shape(grid)}")
    return tuple(row[::k] for row in grid[::k])


def hconcat(left: Grid, right: Grid) -> Grid:
    """Put two grids of equal height side by side."""
    if height(left) != height(right):
        raise ValueError(f"hconcat needs equal heights, got {height(left)} and {height(right)}")
    return tuple(a + b for a, b in zip(left, right, strict=True))


def vconcat(top: Grid, bottom: Grid) -> Grid:
    """Stack two grids of equal width."""
    if width(top) != width(bottom):
        raise ValueError(f"vconcat needs equal widths, got {width(top)} and {width(bottom)}")
    return top + bottom


def tile(grid: Grid, rows: int, cols: int) -> Grid:
    """Repeat a grid rows times down and cols times across."""
    _require_positive(rows, "tile rows")
    _require_positive(cols, "tile cols")
    strip = grid
    for _ in range(cols - 1):
        strip = hconcat(strip, grid)
    result = strip
    for _ in range(rows - 1):
        result = vconcat(result, strip)
    return result


def mirror_h(grid: Grid) -> Grid:
    """The grid followed by its left-right mirror image."""
    return hconcat(grid, flip_h(grid))


def mirror_v(grid: Grid) -> Grid:
    """The grid followed by its top-bottom mirror image."""
    return vconcat(grid, flip_v(grid))


# --- rearranging -----------------------------------------------------------------------


def gravity(grid: Grid, background: int = 0) -> Grid:
    """Let every non-background cell fall to the bottom of its column."""
    fallen = [_settle(column(grid, j), background) for j in range(width(grid))]
    return transpose(tuple(fallen))


def _settle(line: tuple[int, ...], background: int) -> tuple[int, ...]:
    solid = [value for value in line if value != background]
    return (background,) * (len(line) - len(solid)) + tuple(solid)


def compress(grid: Grid) -> Grid:
    """Drop every row, then every column, equal to the one just before it."""
    rows = _dedupe(grid)
    return transpose(_dedupe(transpose(rows)))


def _dedupe(lines: Grid) -> Grid:
    kept: list[tuple[int, ...]] = []
    for line in lines:
        if not kept or kept[-1] != line:
            kept.append(line)
    return tuple(kept)
