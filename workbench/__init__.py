"""workbench: profile a notebook cell by category, then optimise with evidence.

``%load_ext workbench`` registers ``%%optimize`` / ``%optimize``; ``workbench.profile``
does the same without IPython.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.api import experiment, experiments, workflow
    from workbench.compare import compare
    from workbench.errors import ConfigError, ProfileError, WorkbenchError
    from workbench.experiment import ExperimentResult
    from workbench.profiler import load, profile
    from workbench.report.model import Report
    from workbench.report.postmortem import postmortem
    from workbench.route import BackendSelector, Router, recommend_backend
    from workbench.store import RunStore, runs

# Loaded on first use, so `workbench calibrate` on a GPU box needs NumPy alone and the
# command line starts fast; `import workbench; workbench.profile(...)` works as ever.
_LAZY = {
    "experiment": "workbench.api",
    "experiments": "workbench.api",
    "workflow": "workbench.api",
    "compare": "workbench.compare",
    "ConfigError": "workbench.errors",
    "ProfileError": "workbench.errors",
    "WorkbenchError": "workbench.errors",
    "ExperimentResult": "workbench.experiment",
    "load": "workbench.profiler",
    "profile": "workbench.profiler",
    "Report": "workbench.report.model",
    "postmortem": "workbench.report.postmortem",
    "BackendSelector": "workbench.route",
    "Router": "workbench.route",
    "recommend_backend": "workbench.route",
    "RunStore": "workbench.store",
    "runs": "workbench.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BackendSelector",
    "ConfigError",
    "ExperimentResult",
    "ProfileError",
    "Report",
    "Router",
    "RunStore",
    "WorkbenchError",
    "compare",
    "experiment",
    "experiments",
    "load",
    "load_ipython_extension",
    "postmortem",
    "profile",
    "recommend_backend",
    "runs",
    "unload_ipython_extension",
    "workflow",
]
__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext workbench``)."""
    from workbench.ui.magics import OptimizeMagics

    ipython.register_magics(OptimizeMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics (``%unload_ext workbench``)."""
    magics = ipython.magics_manager.magics
    magics["line"].pop("optimize", None)
    magics["cell"].pop("optimize", None)
