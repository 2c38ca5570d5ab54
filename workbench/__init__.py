"""workbench: profile a notebook cell by category, then optimise with evidence.

``%load_ext workbench`` registers ``%%optimize`` / ``%optimize``; ``workbench.profile``
does the same without IPython.
"""

from __future__ import annotations

from typing import Any

try:
    from workbench import calibrate  # callable: calibrate(f, inputs=..., sizes=...)
    from workbench.errors import ConfigError, ProfileError, WorkbenchError
    from workbench.experiment.api import experiments, run_experiment, workflow
    from workbench.experiment.compare import compare
    from workbench.experiment.measure import ExperimentResult
    from workbench.profiling.report import Report
    from workbench.profiling.run import load, profile
    from workbench.report.postmortem import postmortem
    from workbench.route import BackendSelector, Router, recommend_backend
    from workbench.route.experts import experts
    from workbench.route.namespace import namespace
    from workbench.route.placement import place
    from workbench.store.db import RunStore, runs
except ImportError as missing:  # a NumPy-only install: `workbench calibrate` still works
    _MISSING: ImportError | None = missing

    def __getattr__(name: str) -> Any:
        if name not in __all__ or _MISSING is None:
            raise AttributeError(f"module 'workbench' has no attribute {name!r}")
        raise ImportError(
            f"workbench.{name} needs {_MISSING.name or 'a missing package'} "
            f"({_MISSING}): install workbench with its dependencies (pip install workbench); "
            "only `workbench calibrate` runs with NumPy alone"
        )
else:
    _MISSING = None


__all__ = [
    "BackendSelector",
    "ConfigError",
    "ExperimentResult",
    "ProfileError",
    "Report",
    "Router",
    "RunStore",
    "WorkbenchError",
    "calibrate",
    "compare",
    "experiments",
    "experts",
    "load",
    "load_ipython_extension",
    "namespace",
    "place",
    "postmortem",
    "profile",
    "recommend_backend",
    "run_experiment",
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
