"""workbench: profile a notebook cell by category, then optimise with evidence.

``%load_ext workbench`` registers ``%%optimize`` / ``%optimize``; ``workbench.profile``
does the same without IPython. The names below are imported on first use, so
``import workbench`` itself loads nothing heavy (no IPython, plotly, scipy, ...).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.calibration import calibrate
    from workbench.errors import ConfigError, ProfileError, WorkbenchError
    from workbench.experiment.api import experiments, run_experiment, workflow
    from workbench.experiment.compare import compare
    from workbench.experiment.result import ExperimentResult
    from workbench.profiling.report import Report
    from workbench.profiling.run import load, profile
    from workbench.report.postmortem import postmortem
    from workbench.route import BackendSelector, Router, recommend_backend
    from workbench.route.experts import experts
    from workbench.route.namespace import namespace
    from workbench.route.placement import place
    from workbench.store.db import RunStore, runs
    from workbench.store.maintenance import prune, vacuum

# Where each public name is defined; `__getattr__` imports it when first asked for.
_HOMES = {
    "BackendSelector": "workbench.route",
    "ConfigError": "workbench.errors",
    "ExperimentResult": "workbench.experiment.result",
    "ProfileError": "workbench.errors",
    "Report": "workbench.profiling.report",
    "Router": "workbench.route",
    "RunStore": "workbench.store.db",
    "WorkbenchError": "workbench.errors",
    "calibrate": "workbench.calibration",
    "compare": "workbench.experiment.compare",
    "experts": "workbench.route.experts",
    "experiments": "workbench.experiment.api",
    "load": "workbench.profiling.run",
    "namespace": "workbench.route.namespace",
    "place": "workbench.route.placement",
    "postmortem": "workbench.report.postmortem",
    "profile": "workbench.profiling.run",
    "prune": "workbench.store.maintenance",
    "recommend_backend": "workbench.route",
    "run_experiment": "workbench.experiment.api",
    "runs": "workbench.store.db",
    "vacuum": "workbench.store.maintenance",
    "workflow": "workbench.experiment.api",
}

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
    "prune",
    "recommend_backend",
    "run_experiment",
    "runs",
    "unload_ipython_extension",
    "vacuum",
    "workflow",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    try:
        module = importlib.import_module(home)
    except ImportError as missing:  # a NumPy-only install: `workbench calibrate` still works
        raise ImportError(
            f"workbench.{name} needs {missing.name or 'a missing package'} "
            f"({missing}): install workbench with its dependencies (pip install workbench); "
            "only `workbench calibrate` runs with NumPy alone"
        ) from missing
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext workbench``)."""
    from workbench.ui.magics import OptimizeMagics

    ipython.register_magics(OptimizeMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics (``%unload_ext workbench``)."""
    magics = ipython.magics_manager.magics
    magics["line"].pop("optimize", None)
    magics["cell"].pop("optimize", None)
