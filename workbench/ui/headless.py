"""Run magics in a headless IPython shell, as a notebook would, and keep the reports."""

from __future__ import annotations

from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.errors import WorkbenchError


def run_cell_magic(
    line: str, cell: str, *, output: str = "_report"
) -> tuple[Any, BaseException | None]:
    """Run ``%%optimize LINE`` over `cell` in a fresh shell, as a notebook would.

    Returns the Report it stored and the exception the cell raised, if any. Errors that
    stop the magic before it stores a report (bad options) are raised.
    """
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "workbench")
        with capture_output(display=True):
            result = shell.run_cell(f"%%optimize -q -o {output} {line}\n{cell}")
        report = shell.user_ns.get(output)
        if result.error_before_exec is not None:
            raise WorkbenchError(str(result.error_before_exec))
        if result.error_in_exec is not None and report is None:
            raise result.error_in_exec
        return report, result.error_in_exec
    finally:
        InteractiveShell.clear_instance()
