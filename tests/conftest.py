"""Shared fixtures: a fresh IPython shell per test, a fake clock, and a guard that no
profiler is left running after any test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture(autouse=True)
def no_profiler_left_running() -> Iterator[None]:
    assert sys.getprofile() is None, "a profiler was active before the test"
    yield
    assert sys.getprofile() is None, "the test left a profiler running"


@pytest.fixture(autouse=True)
def isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty folder, so no pyproject.toml above it adds rules."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """A fresh, real InteractiveShell with the extension loaded."""
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "workbench")
    yield ip
    ip.run_line_magic("unload_ext", "workbench")
    InteractiveShell.clear_instance()


class Tick:
    """A fake cProfile timer: every reading advances exactly one millisecond."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.readings * 0.001


@pytest.fixture
def tick() -> Tick:
    return Tick()
