"""Backend router: pure Python, NumPy or CuPy per operation, explained.

    from workbench.route import Router
    router = Router()                      # end-to-end cost model; policy="seed" or "5x" too
    c = router.run("matmul", a, b)         # runs where it is cheapest, result where a and b live
    print(router.explain("matmul", a, b))  # predicted seconds per backend, and why
    router.counts()                        # decisions and executions per op and backend

``BackendSelector.select_with_moe`` and ``recommend_backend`` are the seeds' table;
:mod:`workbench.route.scanner` finds compute patterns in source code.
"""

from __future__ import annotations

from workbench.route.cost import CostModel, Prediction, RuleVerdict, Workload
from workbench.route.explain import Explanation
from workbench.route.kinds import Backend, Complexity, Location
from workbench.route.machine_profile import (
    SEED_THRESHOLDS,
    Conversion,
    KernelCost,
    MachineProfile,
    Thresholds,
    Tier,
    Transfer,
    load_machine_profile,
    seed_profile,
)
from workbench.route.measure import measure_profile
from workbench.route.ops import OpRegistry, OpSpec, UnknownOpError
from workbench.route.plans import Decision
from workbench.route.recommend import recommendations
from workbench.route.router import POLICIES, Router
from workbench.route.scanner import Finding, scan_file, scan_module, scan_source
from workbench.route.selector import BackendSelector, recommend_backend

__all__ = [
    "POLICIES",
    "SEED_THRESHOLDS",
    "Backend",
    "BackendSelector",
    "Complexity",
    "Conversion",
    "CostModel",
    "Decision",
    "Explanation",
    "Finding",
    "KernelCost",
    "Location",
    "MachineProfile",
    "OpRegistry",
    "OpSpec",
    "Prediction",
    "Router",
    "RuleVerdict",
    "Thresholds",
    "Tier",
    "Transfer",
    "UnknownOpError",
    "Workload",
    "load_machine_profile",
    "measure_profile",
    "recommend_backend",
    "recommendations",
    "scan_file",
    "scan_module",
    "scan_source",
    "seed_profile",
]
