"""Machine profiles are loaded checked (issue [reliability-security] item 7): every bad
number or field is one RouteError naming the field, never ZeroDivisionError,
AttributeError or OverflowError on the first routed call, never a silent change of routing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.errors import RouteError
from workbench.route import Router, seed_profile

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """An edit that sets one dotted field of the profile's JSON data."""

    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[last] = value

    return edit


BAD_NUMBERS = [0, -1.0, float("nan"), float("inf"), "fast", None, True]
BANDWIDTHS = ["transfer.h2d_bytes_per_s", "transfer.d2h_bytes_per_s"]
COSTS = [
    "kernels.numpy.elementwise.call_s",
    "kernels.python.reduce.per_unit_s",
    "conversion.tolist_s",
    "transfer.latency_s",
]


def _profile_with_transfer() -> dict[str, Any]:
    data = seed_profile().to_dict()
    data["transfer"] = {
        "h2d_bytes_per_s": 8e9,
        "d2h_bytes_per_s": 4e9,
        "latency_s": 1e-5,
        "h2d_method": "pageable",
        "d2h_method": "pageable",
        "stage_above": 16 * 2**20,
        "stage_threads": 4,
    }
    return data


CASES: list[tuple[str, Edit]] = [
    *[(f, _set(f, v)) for f in BANDWIDTHS for v in BAD_NUMBERS],
    *[(f, _set(f, v)) for f in COSTS for v in BAD_NUMBERS if v != 0],
    ("provenance", _set("provenance", [1])),
    ("key", _set("key", "x")),
    ("kernels", _set("kernels", [1])),
    ("kernels.numpy", _set("kernels.numpy", "x")),
    ("conversion", _set("conversion", [1, 2])),
    ("transfer", _set("transfer", "pinned")),
    ("gpu_threshold", _set("gpu_threshold", 1e400)),
    ("gpu_threshold", _set("gpu_threshold", 2.5)),
    ("pcie_factor", _set("pcie_factor", 1e400)),
    ("pcie_factor", _set("pcie_factor", "5")),
    ("thresholds.low.simd_above", _set("thresholds.low.simd_above", 1e400)),
    ("thresholds.medium.gpu_above", _set("thresholds.medium.gpu_above", "big")),
    ("thresholds", _set("thresholds", [1])),
    ("transfer.h2d_method", _set("transfer.h2d_method", "teleport")),
    ("transfer.stage_threads", _set("transfer.stage_threads", 0)),
    ("transfer.stage_above", _set("transfer.stage_above", -5)),
    ("name", _set("name", ["a"])),
    ("date", _set("date", 5)),
    ("calibrated", _set("calibrated", [1])),
]


@pytest.mark.parametrize(
    ("field", "edit"), CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CASES)]
)
def test_a_bad_field_is_one_route_error_naming_it(tmp_path: Path, field: str, edit: Edit) -> None:
    data = _profile_with_transfer()
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))  # NaN and inf as Python's json writes them
    with pytest.raises(RouteError) as info:
        router = Router(path, gpu=False)
        a = np.ones(10)  # a profile accepted by mistake fails here, on the first routed call
        router.run("add", a, a)
        router.run("sum", [1.0, 2.0])
    assert field in str(info.value), str(info.value)


def test_1e400_in_the_file_is_named_not_an_overflow(tmp_path: Path) -> None:
    text = json.dumps(_profile_with_transfer()).replace(
        '"gpu_threshold": 500', '"gpu_threshold": 1e400'
    )
    path = tmp_path / "big.json"
    path.write_text(text)
    with pytest.raises(RouteError, match="gpu_threshold"):
        Router(path, gpu=False)


def test_a_good_profile_still_loads_and_routes(tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_profile_with_transfer()))
    router = Router(path, gpu=False)
    assert router.run("add", [1.0], [2.0]) == [3.0]
    assert router.profile.transfer is not None and router.profile.transfer.h2d_bytes_per_s == 8e9
