"""--memory: tracemalloc's bytes charged to categories and lines, beside the time."""

from __future__ import annotations

import tracemalloc

import pytest
from coverage_work import griddsl, planted
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench

RULES = ["Planted=*/coverage_work/planted.py", "DSL=*/coverage_work/griddsl.py"]


def cell() -> int:
    griddsl.solve(50)
    return planted.allocate()


@pytest.fixture(autouse=True)
def _forget() -> None:
    planted.KEPT.clear()


def test_a_planted_allocation_is_found_in_its_category_and_line() -> None:
    report = workbench.profile(cell, memory=True, category=RULES, use_pyproject=False)
    memory = report.memory
    assert memory is not None
    by_category = memory.set_index("category")
    assert by_category.loc["Planted", "end_bytes"] >= planted.SIZE
    assert by_category.loc["Planted", "peak_bytes"] >= planted.SIZE
    assert memory.iloc[0]["category"] == "Planted"  # the biggest, first
    assert by_category.loc["DSL", "end_bytes"] < planted.SIZE // 100
    line = report.memory_lines.iloc[0]
    assert line["function"] == "allocate" and line["category"] == "Planted"
    assert line["file"].endswith("planted.py") and line["line"] == 10
    assert report.memory_pass is not None and report.memory_pass.peak_bytes >= planted.SIZE
    assert any(r.startswith("Memory pass (--memory)") for r in report.remarks)
    assert "Memory by category" in report.to_text()
    assert not tracemalloc.is_tracing()
    # the code ran twice (capture, then the memory pass): two blocks kept
    assert len(planted.KEPT) == 2


def test_without_the_option_there_is_no_memory_pass() -> None:
    report = workbench.profile(cell, category=RULES, use_pyproject=False)
    assert report.memory is None and report.memory_lines is None
    assert len(planted.KEPT) == 1


def test_the_code_own_error_in_the_memory_pass_is_raised_and_tracing_stops() -> None:
    runs = []

    def fails_second_time() -> None:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("second run")

    with pytest.raises(RuntimeError, match="second run"):
        workbench.profile(fails_second_time, memory=True, use_pyproject=False)
    assert not tracemalloc.is_tracing()


def test_tracing_already_on_is_left_to_the_code() -> None:
    tracemalloc.start()
    try:
        report = workbench.profile(cell, memory=True, category=RULES, use_pyproject=False)
        assert report.memory is None
        assert any("tracemalloc is already tracing" in r for r in report.remarks)
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_the_magic_takes_memory(shell: InteractiveShell) -> None:
    shell.run_cell("from coverage_work import planted")
    with capture_output() as cap:
        shell.run_cell("%%optimize --memory -c Planted=*/planted.py -o r\nplanted.allocate()\n")
    report = shell.user_ns["r"]
    assert report.memory.set_index("category").loc["Planted", "end_bytes"] >= planted.SIZE
    assert "Memory by category" in cap.stdout + str([o.data for o in cap.outputs])
