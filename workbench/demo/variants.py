"""Changes to try on the demo, as a user would: each a context manager that applies the
change for the code run inside it and undoes it after (so a baseline run interleaved with
the candidate's is not changed too)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from workbench.demo import dsl


@contextmanager
def memoized(*names: str) -> Iterator[None]:
    """Cache the results of the named DSL functions (grids are tuples, so hashable)."""
    saved = {name: getattr(dsl, name) for name in names}
    try:
        for name, fn in saved.items():
            setattr(dsl, name, functools.lru_cache(maxsize=None)(fn))
        yield
    finally:
        for name, fn in saved.items():
            setattr(dsl, name, fn)
