"""Calibration: measure each op on each backend here, fit the router's thresholds; or
sweep one of your gated functions.

from workbench.calibrate import calibrate, fit
cal = calibrate(budget_s=30)          # sweeps; Ctrl-C keeps what was measured
result = fit(cal)                     # crossovers, thresholds, regret vs the oracle
result.profile().save("my.json")      # the router uses it: Router("my.json")

workbench.calibrate(f, inputs=lambda n: (make(n),), sizes=[10, 100, 1000])  # a gated f

The package itself is callable: ``workbench.calibrate(f, inputs=..., sizes=...)`` sweeps a
function decorated with ``@workbench.experts`` (calibrate_function), and
``workbench.calibrate(ops, ...)`` (or no argument) the router's op families (calibrate).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from workbench.calibrate.families import DEFAULT_OPS, RESIDENCIES, CalibrationError, log_sizes
from workbench.calibrate.fit import Fit, fit
from workbench.calibrate.functions import FunctionSweep, calibrate_function
from workbench.calibrate.result import Bandwidth, Calibration, Point
from workbench.calibrate.sweep import calibrate
from workbench.machine import MachineKey

__all__ = [
    "DEFAULT_OPS",
    "RESIDENCIES",
    "Bandwidth",
    "Calibration",
    "CalibrationError",
    "Fit",
    "FunctionSweep",
    "MachineKey",
    "Point",
    "calibrate",
    "calibrate_function",
    "fit",
    "log_sizes",
]


class _CallablePackage(types.ModuleType):
    """This package, callable: a gated function is swept with calibrate_function, any
    other first argument (op names, or none) goes to the op sweep."""

    def __call__(self, target: Any = None, /, **options: Any) -> Any:
        from workbench.route.experts import BoundGated, Gated

        if isinstance(target, (Gated, BoundGated)) or "inputs" in options:
            return calibrate_function(target, **options)
        return calibrate(target, **options)


sys.modules[__name__].__class__ = _CallablePackage
