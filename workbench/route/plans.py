"""A routing decision, and the plan the router caches per call signature and size bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.route.cost import Workload
from workbench.route.kinds import Backend, Location

_NUMPY, _PYTHON = Backend.NUMPY, Backend.PYTHON


@dataclass(frozen=True)
class Decision:
    """Where one call runs: the backend, the policy's first choice, and why they differ."""

    op: str
    backend: Backend
    preferred: Backend
    fallback: str | None
    residency: Location
    placement: Location
    workload: Workload | None


class Plan:
    """A cached decision with the counter cells it bumps (mutable, private). `idiom` is
    the idiomatic pure-Python kernel when the plan runs pure Python on lists (typed by
    their first elements when the plan was made); `like` the container results come
    back in (tuples in, tuples out)."""

    __slots__ = (
        "backend",
        "cell",
        "decision",
        "fast",
        "heated",
        "host",
        "host_for_numpy",
        "hot",
        "idiom",
        "like",
        "numpy_lists",
        "python",
    )

    def __init__(
        self,
        decision: Decision,
        cell: list[int],
        python: Any = None,
        like: type = list,
        host: tuple[Any, tuple[Any, ...]] | None = None,
        direct: Any = None,
        numpy_lists: Any = None,
    ) -> None:
        self.decision = decision
        self.backend = decision.backend
        self.cell = cell  # [decisions, executions] of (op, backend)
        self.python = python  # the idiomatic kernel for this signature, if there is one
        self.idiom = python if decision.backend is _PYTHON else None  # ...when it is chosen
        self.like = like
        # NumPy on exact ndarrays as a user writes it: (operator or method, parameters)
        self.host_for_numpy = host
        self.host = host if decision.backend is _NUMPY else None
        # NumPy on lists as a user writes it: np.asarray, the operator, tolist()
        self.numpy_lists = numpy_lists
        # What the fast path calls with the operands, when nothing else needs doing: the
        # idiomatic kernel, NumPy's operator or method, or CuPy's on data already on the
        # GPU (`direct`) (None: the full path runs)
        self.fast: Any = None
        self.hot: Any = None  # the hot path bound to this plan (hot.py), once made
        self.heated = False  # whether a hot path was looked for
        if not decision.fallback:
            if direct is not None:
                self.fast = direct
            elif self.idiom is not None:
                self.fast = self.idiom
            elif self.host is not None:
                fn, extra = self.host
                if all(v is None for v in extra):  # a.sum(None) is a.sum()
                    self.fast = fn
                else:
                    self.fast = lambda *a: fn(*a, *extra)
            elif numpy_lists is not None and decision.backend is _NUMPY:
                self.fast = numpy_lists
