"""offload predictions: without a GPU the pass says why and predicts nothing; with CuPy
and a GPU (skipped otherwise) a hot np.dot on host arrays gets a range from the router's
cost model, from copies every call to data living on the GPU."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import workbench
from workbench import gpu
from workbench.profiling.whatif_offload import NativeUse, offload_savings, source_ops
from workbench.route import Router

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import whatif_cases as cases

NEEDS_GPU = pytest.mark.skipif(not gpu.probe().available, reason="needs CuPy and a CUDA GPU")


def _profile(n: int, side: int) -> workbench.Report:
    namespace: dict[str, object] = {}
    exec(
        f"from whatif_cases import make_pairs, projections\nPAIRS = make_pairs({n}, {side})",
        namespace,
    )
    return workbench.profile("projections(PAIRS)", namespace, whatif=True, use_pyproject=False)


def test_the_ops_of_a_function_are_read_from_its_source() -> None:
    assert source_ops(cases.project, set(Router().registry.names())) == ["dot"]


def test_savings_from_host_time_and_predicted_gpu_seconds() -> None:
    def seconds(func: object, op: str, size: int, residency: str) -> float | None:
        return 0.002 if residency == "host" else 0.0005

    found = offload_savings(cases.project, [NativeUse("dot", 10, 0.05)], 1_000_000, seconds)
    assert found is not None
    low, high, detail = found
    assert low == pytest.approx(10 * (0.005 - 0.002)) and high == pytest.approx(10 * 0.0045)
    assert "dot 10x" in detail


@pytest.mark.skipif(gpu.probe().available, reason="checks the machine without a GPU")
def test_without_a_gpu_offload_is_not_predicted_and_the_note_says_why() -> None:
    report = _profile(3, 200)
    table = report.whatif
    assert table is not None and "offload" not in set(table["change"])
    assert any("offload: not predicted" in note for note in report.whatif_pass.notes)  # type: ignore[union-attr]


@NEEDS_GPU
def test_on_a_gpu_a_hot_matrix_product_gets_an_offload_range() -> None:
    report = _profile(6, 1500)
    row = report.whatif_pass.lookup("offload", "whatif_cases.project")  # type: ignore[union-attr]
    assert row is not None, report.whatif_pass.notes  # type: ignore[union-attr]
    assert math.isfinite(row["predicted_low"]) and row["predicted_low"] <= row["predicted_high"]
    assert "CuPy" in row["evidence"] and row["try"] == ""
