"""Router: runs ops where the policy says, counts everything, explains every decision."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import workbench
from workbench import gpu
from workbench.errors import RouteError
from workbench.route import (
    POLICIES,
    Backend,
    KernelCost,
    Location,
    MachineProfile,
    Router,
    Transfer,
    measure_profile,
    seed_profile,
)

NO_GPU = not gpu.probe().available


@pytest.fixture(scope="module")
def measured() -> MachineProfile:
    """This machine's cost parameters, measured once for the module (about a second)."""
    return measure_profile("test-here", gpu_on=False)


def test_results_come_back_where_the_operands_live() -> None:
    router = Router(gpu=False)
    a = np.arange(6.0).reshape(2, 3)
    out = router.run("add", a, a)
    assert isinstance(out, np.ndarray) and np.array_equal(out, a + a)
    assert router.run("add", [1, 2], [3, 4]) == [4, 6]
    assert isinstance(router.run("sum", a), np.float64)
    host = router.run("add", [1, 2], [3, 4], to="host")
    assert isinstance(host, np.ndarray) and host.tolist() == [4, 6]
    assert router.run("add", a, [1.0, 1.0, 1.0]).shape == (2, 3)  # lists with arrays: host
    assert router.run("matmul", a, a.T, to="python") == (a @ a.T).tolist()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_every_registered_op_runs_and_explains_on_every_available_backend() -> None:
    router = Router(gpu=False)
    rng = np.random.default_rng(1)
    from workbench.route.measure import example_args

    for spec in router.registry:
        if not spec.runnable:
            assert "recommendations only" in _error(lambda s=spec: router.run(s.name, 1))
            assert router.recommend(spec.name, 1e6).seed[0] is not None
            continue
        arrays, params = example_args(spec, 36, rng)
        args = ([params.pop("subscripts")] if spec.name == "einsum" else []) + arrays
        reference = router.run_on("numpy", spec.name, *args, **params)
        for backend in (Backend.PYTHON, Backend.NUMPY):
            got = router.run_on(backend, spec.name, *args, **params)
            assert np.allclose(got, reference, equal_nan=True), (spec.name, backend)
        explanation = router.explain(spec.name, *args, **params)
        assert explanation.predictions[Backend.NUMPY] is not None
        assert explanation.to_frame()["chosen"].sum() == 1


def test_counts_show_decisions_and_executions_per_op_and_backend() -> None:
    router = Router(gpu=False)
    a = np.ones(10)
    for _ in range(3):
        router.run("add", a, a)
    router.decide("sum", a)
    counts = router.counts().set_index(["op", "backend"])
    assert counts.loc[("add", "numpy"), "decisions"] == 3
    assert counts.loc[("add", "numpy"), "executions"] == 3
    assert counts.loc[("sum", "numpy"), "decisions"] == 1
    assert counts.loc[("sum", "numpy"), "executions"] == 0
    assert "pure Python: never executed" in router.never_ran()
    router.reset_counts()
    assert router.counts().empty


def test_a_backend_chosen_but_never_run_is_visible() -> None:
    """Seed 003's 'GPU operations never executed', made visible: here pure Python is
    chosen by the seed table for lists of ints, but one does not fit int64 (NumPy keeps
    Python objects then), so NumPy runs every call."""
    router = Router(policy="seed", gpu=False)
    for _ in range(4):
        assert router.run("add", [2**64, 2], [1, 1]) == [2**64 + 1, 3]
    counts = router.counts().set_index(["op", "backend"])
    assert counts.loc[("add", "python"), "decisions"] == 4
    assert counts.loc[("add", "python"), "executions"] == 0
    assert counts.loc[("add", "python"), "fallbacks_from"] == 4
    assert counts.loc[("add", "numpy"), "executions"] == 4
    assert "pure Python: chosen 4 time(s) but never executed" in router.never_ran()
    assert "int64" in router.fallbacks()["reason"].iloc[0]


def test_the_seed_table_and_end_to_end_model_disagree_and_explain_says_so(
    measured: MachineProfile,
) -> None:
    a = np.ones(100_000)
    seed = Router(measured, policy="seed", gpu=False)
    e2e = Router(measured, gpu=False)
    assert seed.decide("add", a, a).backend is Backend.SCALAR  # Low below 1M: Scalar
    assert e2e.decide("add", a, a).backend is Backend.NUMPY
    explanation = e2e.explain("add", a, a)
    assert explanation.seed[0] is Backend.SCALAR and explanation.chosen is Backend.NUMPY
    assert any("the seed table picks Scalar" in d for d in explanation.disagreements)
    pred = explanation.predictions
    assert pred[Backend.PYTHON] is not None and pred[Backend.NUMPY] is not None
    assert pred[Backend.PYTHON].total_s > pred[Backend.NUMPY].total_s
    assert explanation.sources["numpy"].startswith("measured on this machine")
    assert explanation.measured is False  # the thresholds are the seeds', not measured
    assert "seed-default" in explanation.sources["thresholds"]


@pytest.mark.skipif(not NO_GPU, reason="checks the words used where no GPU is usable")
def test_without_a_gpu_explain_says_why_gpu_is_excluded() -> None:
    router = Router()
    m = np.ones((200, 200))
    explanation = router.explain("matmul", m, m)
    assert explanation.seed[0] is Backend.GPU  # the table would take the GPU
    assert explanation.chosen is not Backend.GPU
    assert explanation.excluded[Backend.CUPY].startswith("no GPU: ")
    assert gpu.probe().reason in str(explanation)
    assert Router(policy="seed").decide("matmul", m, m).backend is Backend.NUMPY


def test_gpu_false_never_picks_the_gpu_whatever_the_profile_says() -> None:
    """A profile whose GPU is slow (so its compute beats 5x the transfer: the 5x rule
    picks GPU) on a router told not to use a GPU: NumPy runs, and the reason is kept."""
    kinds = ("elementwise", "math", "reduce", "matmul", "convolve", "einsum", "view")
    free_gpu = replace(
        seed_profile(),
        kernels={**seed_profile().kernels, "cupy": {k: KernelCost(0.0, 1e-6) for k in kinds}},
        transfer=Transfer(h2d_bytes_per_s=1e10, d2h_bytes_per_s=1e10, latency_s=1e-5),
    )
    router = Router(free_gpu, policy="5x", gpu=False)
    m = np.ones((600, 600))
    decision = router.decide("matmul", m, m)
    assert decision.backend is Backend.NUMPY
    assert decision.fallback is not None and "disabled by Router(gpu=False)" in decision.fallback
    with pytest.raises(RouteError, match="cannot run on CuPy"):
        router.run_on("cupy", "matmul", m, m)


def test_explain_names_numbers_measured_elsewhere(measured: MachineProfile) -> None:
    elsewhere = replace(measured, machine="CPU: another box x64 (x86_64); GPU: none")
    text = str(Router(elsewhere, gpu=False).explain("sum", np.ones(10)))
    assert "measured on another machine (CPU: another box" in text
    assert "measure_profile()" in text


def test_recommend_works_from_a_size_alone_for_every_residency(measured: MachineProfile) -> None:
    router = Router(measured, gpu=False)
    for residency in ("python", "host"):
        explanation = router.recommend("matmul", 250_000, residency=residency)
        assert explanation.workload is not None and explanation.workload.work == 500**3
        assert explanation.chosen is Backend.NUMPY
    lists = router.recommend("sum", 10, residency="python")
    assert lists.workload is not None and lists.workload.residency is Location.PYTHON
    kmeans = router.recommend("KMeans", 1e6)
    assert kmeans.workload is None and "only the seed table applies" in kmeans.reason


def test_decisions_are_cached_per_dtype_rank_and_size_bucket_not_shape() -> None:
    router = Router(gpu=False)
    a, b, c = np.ones(10), np.ones(11), np.ones(1000)
    for _ in range(5):
        router.run("add", a, a)
        router.run("add", b, b)  # another shape in the same size bucket: the same plan
    assert len(router._plans) == 1
    router.run("add", c, c)
    router.run("add", a.astype(np.float32), a.astype(np.float32))
    router.run("add", a.reshape(2, 5), a.reshape(2, 5))
    assert len(router._plans) == 4
    router.run("sum", a, axis=0)
    router.run("sum", a)
    assert len(router._plans) == 6
    with pytest.raises(ValueError):  # shapes that do not fit, in a cached plan: NumPy's error
        router.run("add", np.ones(12), np.ones(13))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.run("nope", 1), "unknown op 'nope'"),
        (lambda r: r.run("add", np.ones(3), np.ones(4)), "do not broadcast"),
        (lambda r: r.run("add", np.ones(3)), "needs 2 array argument"),
        (lambda r: r.run("sum", np.ones(3), bad=1), "unexpected or repeated argument 'bad'"),
        (lambda r: r.run("sum", np.ones(3), axis=2), "axis 2 is out of bounds"),
        (lambda r: r.run("max", np.ones(0)), "has no identity"),
        (lambda r: r.run("add", {"a": 1}, 1), "operand 0 is a builtins.dict"),
        (lambda r: r.run_on("python", "add", [[1, 2], [3]], [1, 2]), "ragged"),
        (lambda r: r.run("matmul", np.ones((2, 3)), np.ones((2, 3))), "not aligned"),
        (lambda r: r.run("einsum", "ij,jk", np.ones((2, 3))), "names 2 operand"),
        (lambda r: r.run("reshape", np.ones(6), (4, -1)), "cannot reshape"),
        (lambda r: r.recommend("add", -5), "data size"),
    ],
)
def test_bad_input_gets_one_clear_route_error(call: object, message: str) -> None:
    assert message in _error(lambda: call(Router(gpu=False)))  # type: ignore[operator]


def test_policies_and_top_level_exports() -> None:
    assert POLICIES == ("calibrated", "end-to-end", "5x", "seed")
    assert Router(policy="e2e", gpu=False).policy == "end-to-end"
    with pytest.raises(RouteError, match="unknown policy"):
        Router(policy="fastest")
    assert workbench.Router is Router and workbench.BackendSelector is not None
    assert "end-to-end" in repr(Router(gpu=False))
    frame = Router(gpu=False).ops()
    assert {"add", "sklearn.KMeans", "torch.Forward"} <= set(frame["op"])


def test_explanation_renders_as_text_markdown_and_a_table() -> None:
    explanation = Router(gpu=False).explain("matmul", np.ones((40, 40)), np.ones((40, 40)))
    text = str(explanation)
    assert "seed table: SIMD" in text and "5x rule:" in text and "numbers from:" in text
    assert "| backend |" in explanation.to_markdown()
    frame = explanation.to_frame()
    assert list(frame["backend"]) == ["python", "numpy", "cupy"]


def _error(fn: object) -> str:
    with pytest.raises(RouteError) as info:
        fn()  # type: ignore[operator]
    return str(info.value)


def test_numpy_scalars_go_along_with_either_side() -> None:
    router = Router(gpu=False)
    assert type(router.run("sqrt", np.float32(4.0))) is np.float32
    assert router.decide("add", [1.0, 2.0], np.float32(1.0)).residency is Location.HOST
    assert type(router.run("add", [1.0, 2.0], np.float32(1.0))) is np.ndarray
    for backend in (Backend.PYTHON, Backend.NUMPY):
        got = router.run_on(backend, "add", np.arange(3, dtype=np.int8), np.int8(5))
        assert got.dtype == np.int8 and got.tolist() == [5, 6, 7]
