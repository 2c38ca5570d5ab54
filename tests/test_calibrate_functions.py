"""workbench.calibrate(f, inputs=..., sizes=...): a gated function swept up front."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import workbench
from workbench.calibration import Calibration, CalibrationError
from workbench.calibration.progress import TextProgress


def gated(tmp_path: Path, wrong_above: int | None = None) -> Any:
    @workbench.experts(size=len, profile=tmp_path / "p.json", autosave=False)
    def square_all(x: list[float]) -> list[float]:
        return [v * v for v in x]

    @square_all.expert("numpy")
    def _(x: list[float]) -> list[float]:
        out = np.square(np.asarray(x)).tolist()
        if wrong_above is not None and len(x) > wrong_above:
            out[1] = -1.0
        return out

    return square_all


def test_a_sweep_fills_every_bucket_and_the_gate_uses_it(tmp_path: Path) -> None:
    f = gated(tmp_path)
    stream = io.StringIO()
    sweep = workbench.calibrate(
        f,
        inputs=lambda n: ([1.5] * n,),
        sizes=[4, 40, 400, 4000, 40_000],
        budget_s=3,
        progress=TextProgress(stream),
    )
    assert "calibrating:" in stream.getvalue()  # the progress bar
    frame = sweep.frame()
    assert set(frame["status"]) == {"ok"} and len(frame) == 10
    assert set(frame["expert"]) == {"python", "numpy"}
    table = f.table()
    chosen = table[table["chosen"]]
    assert len(chosen) >= 5
    assert all("measured by workbench.calibrate" in s for s in chosen["status"])
    assert "measured by workbench.calibrate" in str(f.explain([1.0] * 40_000))
    assert f.inputs is not None and f.sizes == [4, 40, 400, 4000, 40_000]  # for Run benchmark
    assert "points in" in sweep.summary()


def test_a_sweep_disables_an_expert_that_disagrees_and_names_the_element(tmp_path: Path) -> None:
    f = gated(tmp_path, wrong_above=100)
    sweep = workbench.calibrate(f, inputs=lambda n: ([2.0] * n,), sizes=[10, 1000], budget_s=2)
    frame = sweep.frame().set_index(["size", "expert"])
    statuses = frame["status"].to_dict()
    assert statuses[(1000, "numpy")] == "mismatch" and statuses[(10, "numpy")] == "ok"
    text = str(f.explain([2.0] * 1000))
    assert (
        "disabled here: its result differs from python's: [1]: -1.0 where the reference has 4.0"
        in text
    )


def test_bad_sweep_arguments_are_clear_errors(tmp_path: Path) -> None:
    f = gated(tmp_path)
    with pytest.raises(CalibrationError, match="must return the call's arguments as a tuple"):
        workbench.calibrate(f, inputs=lambda n: [1.0] * n, sizes=[3])
    with pytest.raises(CalibrationError, match=r"inputs\(3\) raised ZeroDivisionError"):
        workbench.calibrate(f, inputs=lambda n: (1 / 0,), sizes=[3])
    with pytest.raises(CalibrationError, match=r"decorated with @workbench\.experts"):
        workbench.calibrate(len, inputs=lambda n: (n,), sizes=[3])
    with pytest.raises(CalibrationError, match="budget"):
        workbench.calibrate(f, inputs=lambda n: ([1.0] * n,), sizes=[3], budget_s=0)


def test_the_package_called_without_a_function_sweeps_the_op_families() -> None:
    cal = workbench.calibrate(["add"], budget_s=1, sizes=[10, 100], gpu_enabled=False)
    assert isinstance(cal, Calibration) and {p.op for p in cal.points} == {"add"}
    from workbench.calibration.fit import Fit  # the package still works as a package

    assert isinstance(workbench.calibration.fit(cal), Fit)
