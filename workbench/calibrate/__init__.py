"""Calibration: measure each op on each backend here, fit the router's thresholds.

from workbench.calibrate import calibrate, fit
cal = calibrate(budget_s=30)          # sweeps; Ctrl-C keeps what was measured
result = fit(cal)                     # crossovers, thresholds, regret vs the oracle
result.profile().save("my.json")      # the router uses it: Router("my.json")
"""

from __future__ import annotations

from workbench.calibrate.families import DEFAULT_OPS, RESIDENCIES, CalibrationError, log_sizes
from workbench.calibrate.fit import Fit, fit
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
    "MachineKey",
    "Point",
    "calibrate",
    "fit",
    "log_sizes",
]
