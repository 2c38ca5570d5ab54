"""Shared fixtures: a fresh IPython shell per test, a fake clock, a guard that no
profiler is left running after any test, and the notebooks executed once per test session
by a real kernel (nbclient), for the notebook and the browser tests."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute_notebook(name: str, workdir: Path) -> Any:
    """Run notebooks/`name` top to bottom in a real kernel with `workdir` as its folder
    (pager output displayed, as in Lab); the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        # Pager output (?, %prun) becomes a display output instead of vanishing.
        extra_arguments=["--InteractiveShell.display_page=True"],
    )
    client.execute()
    return notebook


@pytest.fixture(scope="session")
def executed_notebooks(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[Any, Path]]:
    """`run(name)`: the notebook executed once per test session, and the folder it ran in."""
    done: dict[str, tuple[Any, Path]] = {}

    def run(name: str) -> tuple[Any, Path]:
        if name not in done:
            workdir = tmp_path_factory.mktemp(Path(name).stem)
            done[name] = (execute_notebook(name, workdir), workdir)
        return done[name]

    return run
