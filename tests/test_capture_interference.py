"""A profiler started by the profiled code itself (its own cProfile, sys.setprofile(None),
%prun inside the cell) is detected: the profile says it was cut short, and the code's own
hook is left running as the code left it."""

from __future__ import annotations

import cProfile
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from workbench.profiling.capture import run_profiled

OLD_SLOT = sys.version_info < (3, 12)  # cProfile and sys.setprofile share one hook
needs_shared_slot = pytest.mark.skipif(not OLD_SLOT, reason="cProfile uses sys.monitoring here")


def before() -> int:
    return sum(range(100))


def after() -> int:
    return sum(range(100))


def names(stats: dict[Any, Any]) -> set[str]:
    return {key[2] for key in stats}


def test_an_undisturbed_run_is_not_truncated() -> None:
    raw, error = run_profiled([before, after])
    assert error is None and raw.truncated_by is None
    assert {"before", "after"} <= names(raw.stats)


@needs_shared_slot
def test_the_codes_own_cprofile_is_detected_and_left_running() -> None:
    own = cProfile.Profile()

    def cell() -> None:
        before()
        own.enable()
        after()

    raw, error = run_profiled([cell])
    try:
        assert error is None and raw.completed
        assert raw.truncated_by is not None and "profiler of its own (Profile)" in raw.truncated_by
        assert sys.getprofile() is own  # not removed at the end
        assert "before" in names(raw.stats) and "after" not in names(raw.stats)
    finally:
        own.disable()
    own.create_stats()
    assert "after" in names(own.stats)  # type: ignore[attr-defined]


@needs_shared_slot
def test_setprofile_none_in_the_code_is_detected() -> None:
    def cell() -> None:
        before()
        sys.setprofile(None)
        after()

    raw, error = run_profiled([cell])
    assert error is None
    assert raw.truncated_by is not None and "switched the profiler off" in raw.truncated_by
    assert "after" not in names(raw.stats)
    assert sys.getprofile() is None


@needs_shared_slot
def test_a_python_hook_set_by_the_code_stays_set() -> None:
    seen: list[str] = []

    def hook(frame: FrameType, event: str, arg: object) -> None:
        seen.append(event)

    def cell() -> None:
        sys.setprofile(hook)
        after()

    raw, _ = run_profiled([cell])
    try:
        assert raw.truncated_by is not None and "(function)" in raw.truncated_by
        assert sys.getprofile() is hook
    finally:
        sys.setprofile(None)
    assert seen


@needs_shared_slot
def test_prun_inside_the_cell_is_detected(shell: InteractiveShell) -> None:
    shell.user_ns["before"] = before
    step: Callable[[], object] = lambda: shell.run_line_magic("prun", "-q -s cumulative before()")  # noqa: E731
    raw, error = run_profiled([step, after])
    assert error is None
    assert raw.truncated_by is not None and "%prun" in raw.truncated_by
    assert "after" not in names(raw.stats)
    assert sys.getprofile() is None


@pytest.mark.skipif(OLD_SLOT, reason="before 3.12 the shared slot is tested above")
def test_on_sys_monitoring_the_codes_hooks_do_not_cut_the_profile() -> None:
    def cell() -> None:
        sys.setprofile(None)
        after()

    raw, error = run_profiled([cell])
    assert error is None and raw.truncated_by is None
    assert "after" in names(raw.stats)


@needs_shared_slot
def test_a_report_cut_short_by_the_codes_own_hook_is_incomplete_and_says_why() -> None:
    import workbench

    def cell() -> None:
        before()
        sys.setprofile(None)
        after()

    report = workbench.profile(cell)
    assert not report.complete
    assert any(
        n.startswith("INCOMPLETE:") and "switched the profiler off" in n for n in report.notes()
    )
