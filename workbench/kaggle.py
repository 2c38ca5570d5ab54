"""Kaggle notebooks: where to write, which wheels to install from, what GPUs there are.

Kaggle mounts attached datasets read-only under /kaggle/input (older notebooks at
/kaggle/input/<slug>/, newer ones at /kaggle/input/datasets/<owner>/<slug>/) and keeps
what a run writes to /kaggle/working. Code competitions run with the internet off, so the
workbench is installed from wheels uploaded as a dataset (`make wheels` builds them); the
install cell of notebooks/kaggle.ipynb does that before this module can be imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from workbench import gpu

INPUT = Path("/kaggle/input")
WORKING = Path("/kaggle/working")


def on_kaggle() -> bool:
    """True inside a Kaggle notebook or batch run ("Save & Run All")."""
    return "KAGGLE_KERNEL_RUN_TYPE" in os.environ or INPUT.is_dir()


def working_dir() -> Path:
    """Where artefacts go: /kaggle/working on Kaggle (kept with the notebook's version),
    the current folder elsewhere."""
    return WORKING if on_kaggle() and WORKING.is_dir() else Path.cwd()


def gpu_summary() -> str:
    """The GPUs, driver, CUDA runtime and CuPy version, or why there is no GPU."""
    status = gpu.probe()
    if not status.available:
        return f"no GPU: {status.reason}; GPU steps are skipped"
    from workbench.machine import current_key

    key = current_key()
    return (
        f"{len(status.devices)} GPU(s): {key.gpu}; driver (CUDA) {key.driver}, "
        f"CUDA runtime {key.cuda}, CuPy {key.cupy}"
    )
