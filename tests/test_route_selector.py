"""The seeds' MoE table, recommend_backend, the op registry and machine profiles."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import workbench
from workbench.errors import RouteError
from workbench.route import (
    Backend,
    BackendSelector,
    Complexity,
    MachineProfile,
    OpRegistry,
    Thresholds,
    Tier,
    UnknownOpError,
    load_machine_profile,
    recommend_backend,
    seed_profile,
)

# (complexity, size, seed answer): every boundary of seed 002's table.
SEED_TABLE = [
    ("Low", 0, Backend.SCALAR),
    ("Low", 1_000_000, Backend.SCALAR),
    ("Low", 1_000_001, Backend.SIMD),
    ("Low", 10**12, Backend.SIMD),
    ("Medium", 10_000, Backend.SCALAR),
    ("Medium", 10_001, Backend.SIMD),
    ("Medium", 100_000, Backend.SIMD),
    ("Medium", 100_001, Backend.GPU),
    ("High", 1_000, Backend.SCALAR),
    ("High", 1_001, Backend.SIMD),
    ("High", 10_000, Backend.SIMD),
    ("High", 10_001, Backend.GPU),
]


@pytest.mark.parametrize(("complexity", "size", "expected"), SEED_TABLE)
def test_select_with_moe_follows_the_seed_table_at_every_boundary(
    complexity: str, size: int, expected: Backend
) -> None:
    selector = BackendSelector("seed", gpu=True)
    assert selector.select_with_moe(complexity, size) is expected
    assert selector.select_with_moe(Complexity.parse(complexity), float(size)) is expected


def test_without_a_gpu_a_gpu_answer_becomes_simd_and_explain_says_why() -> None:
    selector = BackendSelector(gpu=False)
    assert selector.select_with_moe("High", 50_000) is Backend.SIMD
    text = selector.explain("High", 50_000)
    assert "the table says GPU" in text and "no GPU here (disabled (gpu=False))" in text


def test_recommend_backend_reproduces_seed_002_end_to_end_example() -> None:
    assert recommend_backend("add", 100) is Backend.SCALAR
    assert recommend_backend("add", 2_000_000) is Backend.SIMD
    assert recommend_backend("dot", 50_000, gpu=True) is Backend.GPU
    assert recommend_backend("dot", 50_000, gpu=False) is Backend.SIMD
    assert workbench.recommend_backend is recommend_backend


def test_backend_names_are_the_seeds_and_the_libraries() -> None:
    assert (
        Backend.SCALAR is Backend.PYTHON
        and Backend.SIMD is Backend.NUMPY
        and Backend.GPU is Backend.CUPY
    )
    assert [b.seed_name for b in Backend] == ["Scalar", "SIMD", "GPU"]
    assert Backend.parse("gpu") is Backend.CUPY and Backend.parse("NumPy") is Backend.NUMPY
    with pytest.raises(RouteError, match="unknown backend"):
        Backend.parse("tpu")


@pytest.mark.parametrize("size", [-1, -0.5, float("nan"), True, "100", None])
def test_bad_sizes_are_refused_with_a_clear_message(size: object) -> None:
    with pytest.raises(RouteError, match="data size"):
        BackendSelector(gpu=False).select_with_moe("Low", size)  # type: ignore[arg-type]


def test_unknown_complexity_and_op_are_refused_with_suggestions() -> None:
    with pytest.raises(RouteError, match="Low, Medium or High"):
        BackendSelector(gpu=False).select_with_moe("Huge", 10)
    with pytest.raises(UnknownOpError, match="Did you mean matmul"):
        recommend_backend("matmull", 10)


@pytest.mark.parametrize(
    ("op", "complexity"),
    [
        ("add", "Low"),
        ("subtract", "Low"),
        ("multiply", "Low"),
        ("reshape", "Low"),
        ("sum", "Medium"),
        ("mean", "Medium"),
        ("max", "Medium"),
        ("min", "Medium"),
        ("vdot", "Medium"),
        ("dot", "High"),
        ("matmul", "High"),
        ("convolve", "High"),
        ("einsum", "High"),
        ("tensordot", "High"),
        ("sklearn.StandardScaler", "Low"),
        ("LinearRegression", "Medium"),
        ("KMeans", "High"),
        ("torch.TensorCreation", "Low"),
        ("torch.Linear", "Medium"),
        ("torch.Forward", "High"),
    ],
)
def test_registry_carries_the_seeds_complexity(op: str, complexity: str) -> None:
    assert str(OpRegistry.builtin().get(op).complexity) == complexity


def test_registry_answers_to_aliases_and_lists_runnable_ops() -> None:
    registry = OpRegistry.builtin()
    assert registry.get("numpy.add") is registry.get("add") is registry.get("ADD")
    assert registry.get("@").name == "matmul" and registry.get("dot_product").name == "vdot"
    assert (
        "matmul" in registry.runnable_names() and "sklearn.KMeans" not in registry.runnable_names()
    )
    assert len(registry.runnable_names()) >= 20


def test_profiles_round_trip_through_json_and_other_tables_change_the_answer(
    tmp_path: Path,
) -> None:
    custom = seed_profile().with_thresholds(
        Thresholds(low=Tier(10, None), medium=Tier(10, 20), high=Tier(None, 5)), "measured: test"
    )
    path = custom.save(tmp_path / "p.json")
    loaded = load_machine_profile(path)
    assert loaded == custom
    selector = BackendSelector(path, gpu=True)
    assert selector.select_with_moe("Low", 11) is Backend.SIMD
    assert selector.select_with_moe("High", 6) is Backend.GPU
    assert selector.select_with_moe("High", 5) is Backend.SCALAR
    assert loaded.source_of("thresholds") == "measured: test"
    assert not list(tmp_path.glob(".p.json.*"))  # no temporary file left behind


def test_seed_profile_labels_seed_defaults_and_names_where_costs_were_measured() -> None:
    profile = seed_profile()
    assert profile.source_of("thresholds").startswith("seed-default")
    assert profile.source_of("pcie_factor").startswith("seed-default")
    assert profile.pcie_factor == 5.0 and profile.gpu_threshold == 500
    assert profile.source_of("numpy").startswith("measured") and profile.machine


def test_bad_profiles_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RouteError, match="unknown profile"):
        load_machine_profile("fastest")
    with pytest.raises(RouteError, match="cannot read"):
        load_machine_profile(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RouteError, match="not valid JSON"):
        load_machine_profile(tmp_path / "bad.json")
    data = seed_profile().to_dict()
    (tmp_path / "future.json").write_text(json.dumps({**data, "schema": 99}))
    with pytest.raises(RouteError, match="newer"):
        load_machine_profile(tmp_path / "future.json")
    (tmp_path / "partial.json").write_text(json.dumps({"kernels": {}}))
    with pytest.raises(RouteError, match="not a valid machine profile"):
        load_machine_profile(tmp_path / "partial.json")
    with pytest.raises(RouteError, match="pcie_factor"):
        replace(seed_profile(), pcie_factor=float("nan"))
    with pytest.raises(RouteError, match="gpu_threshold"):
        MachineProfile(name="x", gpu_threshold=-1)
