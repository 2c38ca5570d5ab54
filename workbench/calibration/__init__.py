"""Calibration: measure each op on each backend here and fit the router's thresholds; or
sweep one of your gated functions.

    import workbench
    cal = workbench.calibrate(budget_s=30)   # the op families; Ctrl-C keeps what was measured
    result = workbench.calibration.fit(cal)  # crossovers, thresholds, regret vs the oracle
    result.profile().save("my.json")         # the router uses it: Router("my.json")

    workbench.calibrate(f, inputs=lambda n: (make(n),), sizes=[10, 100, 1000])  # a gated f
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

from workbench.calibration.families import DEFAULT_OPS, RESIDENCIES, CalibrationError, log_sizes
from workbench.calibration.fit import Fit, fit
from workbench.calibration.functions import FunctionSweep, calibrate_function
from workbench.calibration.result import Bandwidth, Calibration, Point
from workbench.calibration.sweep import calibrate_ops
from workbench.machine import MachineKey

if TYPE_CHECKING:
    from workbench.route.experts import BoundGated, Gated

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
    "calibrate_ops",
    "fit",
    "log_sizes",
]


@overload
def calibrate(target: Gated | BoundGated, /, **options: Any) -> FunctionSweep: ...
@overload
def calibrate(target: Sequence[str] | None = None, /, **options: Any) -> Calibration: ...
def calibrate(target: Any = None, /, **options: Any) -> Calibration | FunctionSweep:
    """Calibrate on this machine: a function decorated with ``@workbench.experts`` (or any
    call with ``inputs=``) is swept with :func:`calibrate_function`; op names, or no
    argument, sweep the router's op families with :func:`calibrate_ops`."""
    from workbench.route.experts import BoundGated, Gated

    if isinstance(target, (Gated, BoundGated)) or "inputs" in options:
        return calibrate_function(target, **options)
    return calibrate_ops(target, **options)
