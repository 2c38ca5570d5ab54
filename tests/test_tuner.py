"""The tuner widget, driven without a browser or kernel: set widget values, click buttons,
assert on the figure's data and layout, the regret text and the files written.

CPU-only data is a real (small) calibration of this machine; the multi-GPU case is a
Calibration built from Point records with synthetic times on GPUs 0 and 1, which is test
data for the widget's logic, not a measurement."""

from __future__ import annotations

import html
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.calibration import Calibration, MachineKey, Point, calibrate
from workbench.calibration.fit import BACKENDS, Fit, choose, fit, geo_mean_regret, regret, seed_tier
from workbench.errors import WorkbenchError
from workbench.route import Router
from workbench.route.kinds import Backend
from workbench.route.machine_profile import Tier, seed_profile
from workbench.ui.tuner import view, words
from workbench.ui.tuner.state import ALWAYS, AT, NEVER, TunerError, TunerState
from workbench.ui.tuner.widget import STEP, Tuner

SIZES = [10, 100, 1_000, 10_000, 100_000]


@pytest.fixture(scope="module")
def cpu_cal() -> Calibration:
    """A real sweep of this machine: two ops, five sizes, CPU only (about 2 s)."""
    return calibrate(["add", "vdot"], budget_s=3, sizes=SIZES, gpu_enabled=False)


def _time(backend: str, residency: str, device: int, n: float) -> float:
    """Synthetic seconds per call: Python linear and slow, NumPy with a small overhead,
    CuPy with a launch cost and transfers unless the data is already on the device."""
    slow = 1.3 if device == 1 else 1.0
    move = {"python": 3e-8, "host": 1e-9, "device": 0.0}[residency]
    if backend == "python":
        return 1e-6 + (1e-6 if residency == "device" else 5e-8) * n
    if backend == "numpy":
        return 2e-6 + 2e-9 * n + (3e-8 * n if residency != "host" else 0.0)
    return slow * (2e-5 + 1e-11 * n) + move * n


def gpu_cal() -> Calibration:
    """Points for add on two GPUs: every lane a calibration of such a machine would have."""
    points = []
    sizes = [10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    lanes = [(r, -1, b) for r in ("python", "host") for b in ("python", "numpy")]
    lanes += [(r, d, "cupy") for r in ("python", "host") for d in (0, 1)]
    lanes += [("device", d, b) for d in (0, 1) for b in BACKENDS]
    for residency, device, backend in lanes:
        for n in sizes:
            t = _time(backend, residency, device, n)
            points.append(Point("add", residency, device, backend, n, "ok", t, t * 0.95, t * 1.1))
    key = MachineKey(cpu="test CPU", gpu="0: Test GPU A, 1: Test GPU B", cupy="14.0")
    return Calibration(key, "2026-01-01T00:00Z", 10.0, points)


def _line_xs(tuner: Tuner) -> list[float]:
    return [s.x0 for s in tuner.figure.layout.shapes if s.type == "line"]


# --- CPU only, real measurements --------------------------------------------------------


def test_one_trace_per_backend_with_the_measured_times(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal)
    names = [t.name for t in tuner.figure.data]
    assert names == [
        "pure Python",
        "NumPy",
        "CuPy",
        "fastest idiomatic code (independent)",
        "chosen",
    ]
    c = tuner.state.curves[tuner.key]
    oracle = np.array(tuner.figure.data[3].y, dtype=float)
    assert np.allclose(oracle, c.reference(), equal_nan=True) and c.independent
    by_name = {t.name: t for t in tuner.figure.data}
    timed = np.isfinite(c.median["numpy"])
    assert list(np.array(by_name["NumPy"].y, dtype=float)[timed]) == list(c.median["numpy"][timed])
    assert by_name["pure Python"].visible and by_name["NumPy"].visible
    assert by_name["CuPy"].visible is False
    assert tuner.figure.layout.xaxis.type == "log" and tuner.figure.layout.yaxis.type == "log"


def test_cpu_only_hides_the_cupy_threshold(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal)
    assert tuner.device.options == (("CPU only", -1),)
    assert tuner.cupy_slider.disabled and tuner.cupy_row.layout.display == "none"
    assert "wb-threshold" in tuner.python_slider._dom_classes
    assert "wb-threshold" in tuner.cupy_slider._dom_classes
    assert "wb-regret" in tuner.regret._dom_classes
    assert not any(s.name == "cupy chosen" for s in tuner.figure.layout.shapes)


def test_moving_the_slider_moves_the_line_and_the_regret_at_once(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal)
    tuner.residency.value = "host"
    key = tuner.key
    before = tuner.regret.value
    tuner.python_slider.value = 30_000.0
    assert tuner.python_mode.value == AT
    assert _line_xs(tuner) == [30_000.0]
    edited = Tier(30_000.0, tuner.state.fitted(key).gpu_above)
    assert tuner.tiers[key] == edited
    assert "pure Python up to 30,000" in tuner.regret.value
    direct = regret(tuner.state.curves[key], edited)
    assert f"geo-mean regret <b>{view.ratio(direct.geo_mean)}</b>" in tuner.regret.value
    assert tuner.regret.value != before  # lists of 10k+ elements in pure Python cost more
    python_region = [s for s in tuner.figure.layout.shapes if s.name == "python chosen"]
    assert python_region[0].x1 == 30_000.0

    tuner.python_slider.value = 300.0
    assert _line_xs(tuner) == [300.0]
    tuner.python_mode.value = NEVER
    assert tuner.tiers[key].simd_above == 0 and _line_xs(tuner) == []
    assert {s.name for s in tuner.figure.layout.shapes} == {"numpy chosen"}
    tuner.python_mode.value = ALWAYS
    assert tuner.tiers[key].simd_above is None
    assert {s.name for s in tuner.figure.layout.shapes} == {"python chosen"}


def test_fit_and_reset_buttons_set_every_group_and_score_it_as_regret_does(
    cpu_cal: Calibration,
) -> None:
    tuner = Tuner(cpu_cal)
    fitted = fit(cpu_cal)
    tuner.python_slider.value = 5_000.0
    tuner.reset_button.click()
    seeds = {k: seed_tier(k[0]) for k in fitted.curves}
    assert tuner.tiers == seeds
    key = tuner.key
    assert tuner.state.group_regret(key) == regret(fitted.curves[key], seeds[key])
    assert f"<b>{view.ratio(regret(fitted.curves[key], seeds[key]).geo_mean)}</b>" in (
        tuner.regret.value
    )
    table = geo_mean_regret(fitted.curves, seeds)
    assert f"All {len(seeds)} groups: geo-mean regret <b>{view.ratio(table)}</b>" in (
        tuner.regret.value
    )
    assert tuner.python_slider.value == pytest.approx(seeds[key].simd_above, rel=0.05)

    tuner.fit_button.click()
    assert tuner.tiers == dict(fitted.tiers)
    assert tuner.state.group_regret(key) == regret(fitted.curves[key], fitted.tiers[key])


def test_saved_profile_routes_with_the_edited_threshold(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal)
    tuner.residency.value = "host"
    tuner.python_slider.value = 3_000.0
    tuner.path.value = "tuned.json"
    tuner.save_button.click()
    written = Path("tuned.json").resolve()
    assert str(written) in tuner.status.value
    assert not [p for p in written.parent.iterdir() if p.name.startswith(".tuned.json")]

    router = Router(written, gpu=False)
    assert router.policy == "calibrated"
    assert router.profile.calibrated["add|host|-1"] == Tier(3_000.0, None)
    assert router.profile.calibrated["vdot|python|-1"] == fit(cpu_cal).tiers[("vdot", "python", -1)]
    assert router.decide("add", np.ones(2_000), np.ones(2_000)).backend is Backend.PYTHON
    assert router.decide("add", np.ones(5_000), np.ones(5_000)).backend is Backend.NUMPY

    reopened = Tuner(str(written))  # a saved profile opens with its edits
    assert reopened.tiers[("add", "host", -1)] == Tier(3_000.0, None)
    assert len(reopened.state.fit.calibration.points) == len(cpu_cal.points)


def test_displaying_the_tuner_shows_the_box_with_the_figure_as_it_is_now(
    cpu_cal: Calibration, shell: InteractiveShell
) -> None:
    tuner = Tuner(cpu_cal)
    tuner.python_slider.value = 2_000.0
    shell.user_ns["tuner"] = tuner
    with capture_output() as cap:
        shell.run_cell("from IPython.display import display\ndisplay(tuner)")
    view_data = cap.outputs[0].data["application/vnd.jupyter.widget-view+json"]
    assert view_data["model_id"] == tuner.widget.model_id
    # a browser view of the figure starts from this state: it must hold the moved line
    synced = tuner.figure._widget_layout["shapes"]
    assert [s["x0"] for s in synced if s["type"] == "line"] == [2_000.0]


def test_save_refuses_a_path_that_is_not_json(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal)
    tuner.path.value = "profile.txt"
    tuner.save_button.click()
    assert "Not saved" in tuner.status.value and ".json" in tuner.status.value
    assert not Path("profile.txt").exists()


def test_a_profile_without_measurements_says_to_run_calibrate(tmp_path: Path) -> None:
    with pytest.raises(TunerError, match=r"run `cal = workbench\.calibrate\(\)`"):
        Tuner(seed_profile())
    path = seed_profile().save(tmp_path / "seed.json")
    with pytest.raises(WorkbenchError, match="no calibration data"):
        Tuner(str(path))
    with pytest.raises(TunerError, match="Calibration, a Fit"):
        Tuner(42)  # type: ignore[arg-type]


def test_run_benchmark_updates_the_progress_and_keeps_hand_edits(cpu_cal: Calibration) -> None:
    tuner = Tuner(
        cpu_cal, budget_s=2, calibrate_options={"sizes": [10, 1_000], "gpu_enabled": False}
    )
    tuner.op.value = "vdot"
    tuner.python_slider.value = 50.0
    seen: list[int] = []
    tuner.progress.observe(lambda ch: seen.append(ch["new"]), names="value")
    tuner.run_button.click()
    assert "Measured" in tuner.status.value
    new = tuner.state.fit.calibration
    assert new is not cpu_cal and {p.size for p in new.points} == {10, 1_000}
    assert tuner.progress.value == tuner.progress.max == len(new.points)
    assert seen[-1] == len(new.points) and len(seen) >= len(new.points)
    assert tuner.tiers[("vdot", "python", -1)].simd_above == 50.0  # edited: kept
    assert tuner.tiers[("add", "host", -1)] == tuner.state.fit.tiers[("add", "host", -1)]


def test_a_failed_benchmark_keeps_the_old_data_and_shows_why(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal, calibrate_options={"dtype": "int64"})
    before = tuner.state.fit
    tuner.run_button.click()
    assert "Run benchmark failed" in tuner.status.value
    assert "CalibrationError" in tuner.status.value
    assert tuner.state.fit is before and not tuner.run_button.disabled


# --- several GPUs, synthetic data -------------------------------------------------------


def test_device_dropdown_lists_each_gpu_and_only_measured_combinations() -> None:
    tuner = Tuner(gpu_cal())
    tuner.residency.value = "host"
    assert tuner.device.options == (
        ("CPU only", -1),
        ("GPU 0 (Test GPU A)", 0),
        ("GPU 1 (Test GPU B)", 1),
    )
    tuner.residency.value = "device"
    assert [v for _, v in tuner.device.options] == [0, 1]
    assert tuner.residency.options == (
        ("Python lists", "python"),
        ("NumPy arrays (host memory)", "host"),
        ("CuPy arrays (GPU memory)", "device"),
    )


def test_cupy_slider_on_a_gpu_group_moves_its_line_and_region() -> None:
    tuner = Tuner(gpu_cal())
    tuner.residency.value = "host"
    tuner.device.value = 1
    key = tuner.key
    assert key == ("add", "host", 1)
    assert not tuner.cupy_slider.disabled and tuner.cupy_row.layout.display is None
    assert {t.name: t.visible for t in tuner.figure.data}["CuPy"] is True
    tuner.python_mode.value = NEVER
    tuner.cupy_slider.value = 200_000.0
    assert tuner.tiers[key] == Tier(0.0, 200_000.0)
    assert _line_xs(tuner) == [200_000.0]
    cupy = [s for s in tuner.figure.layout.shapes if s.name == "cupy chosen"]
    assert cupy[0].x0 == 200_000.0
    direct = regret(tuner.state.curves[key], Tier(0.0, 200_000.0))
    assert f"geo-mean regret <b>{view.ratio(direct.geo_mean)}</b>" in tuner.regret.value
    tuner.cupy_mode.value = NEVER
    assert tuner.tiers[key].gpu_above is None
    assert {s.name for s in tuner.figure.layout.shapes} == {"numpy chosen"}
    tuner.device.value = -1  # the CPU-only group of the same op and residency
    assert tuner.cupy_slider.disabled
    assert {t.name: t.visible for t in tuner.figure.data}["CuPy"] is False


def test_the_browsers_echo_of_a_snapped_slider_is_not_an_edit() -> None:
    tuner = Tuner(gpu_cal())
    tuner.residency.value = "host"
    key = tuner.key
    exponent = math.log10(tuner.python_slider.value)
    assert abs(exponent / STEP - round(exponent / STEP)) < 1e-9  # put on the slider's grid
    tuner.python_slider.value = tuner.python_slider.value * (1 + 1e-12)  # sent back as drawn
    assert tuner.tiers[key] == tuner.state.fitted(key) and not tuner.state.edited
    tuner.python_slider.value = 10 ** (exponent + STEP)  # one step: the user moved it
    assert tuner.tiers[key].simd_above == pytest.approx(10 ** (exponent + STEP))
    assert tuner.state.edited == {key}


def test_profile_keeps_per_gpu_thresholds() -> None:
    state = TunerState.from_source(fit(gpu_cal()))
    assert ("add", "device", 0) in state.groups() and ("add", "device", 1) in state.groups()
    state.set_tier(("add", "host", 1), Tier(100.0, 1e6))
    profile = state.profile("two gpus")
    assert profile.calibrated["add|host|1"] == Tier(100.0, 1e6)
    assert profile.calibrated["add|host|0"] == state.fitted(("add", "host", 0))
    assert profile.tier_for("add", "host", 1) == (Tier(100.0, 1e6), "add|host|1")
    assert Calibration.from_dict(json.loads(json.dumps(profile.calibration))).points


def test_regions_agree_with_the_backend_each_size_gets() -> None:
    c = fit(gpu_cal()).curves[("add", "host", 0)]
    for tier in (Tier(1_000, 100_000), Tier(None, 50_000), Tier(0, None), Tier(500, 0)):
        lo, hi = view.x_range(c, [tier])
        spans = view.regions(tier, lo, hi, True)
        assert spans[0][1] == lo and spans[-1][2] == hi
        assert all(a[2] == b[1] for a, b in itertools.pairwise(spans))
        picked = choose(tier, c.sizes, True)
        for size, index in zip(c.sizes, picked, strict=True):
            inside = [b for b, x0, x1 in spans if x0 < size <= x1]  # (x0, x1], as choose
            assert inside == [BACKENDS[index]]


def test_fit_source_is_used_as_given_and_bad_sources_are_refused() -> None:
    result: Fit = fit(gpu_cal())
    state = TunerState.from_source(result)
    assert state.fit is result and state.tiers == dict(result.tiers)
    empty = Calibration(MachineKey(cpu="x"), "2026-01-01T00:00Z", 1.0)
    with pytest.raises(TunerError, match="no timed points"):
        TunerState.from_source(empty)
    assert math.isfinite(state.table_regret()["seed"])


def test_chosen_points_say_where_a_time_was_extrapolated() -> None:
    cal = gpu_cal()
    cal.points = [p for p in cal.points if not (p.backend == "python" and p.size > 1_000)]
    tuner = Tuner(cal)
    tuner.residency.value = "host"
    tuner.python_mode.value = ALWAYS
    chosen = tuner.figure.data[-1]
    sizes = list(chosen.x)
    assert chosen.text[sizes.index(1_000)] == "pure Python"
    assert chosen.text[sizes.index(100_000)] == "pure Python (not timed here: extrapolated)"
    assert chosen.y[sizes.index(100_000)] > chosen.y[sizes.index(1_000)] * 10


# --- a gated function of the user's --------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _gated(profile: Path, clock: _Clock) -> object:
    """A function with a pure-Python reference (1 us per element) and a NumPy expert
    (20 us + 10 ns per element), both spending their cost on a fake clock."""
    import workbench

    @workbench.experts(size=len, clock=clock, profile=profile, autosave=False)
    def scaled(x: list[float]) -> list[float]:
        clock.now += 1e-6 * len(x)
        return [2.0 * v for v in x]

    @scaled.expert("numpy")
    def _(x: list[float]) -> list[float]:
        clock.now += 2e-5 + 1e-8 * len(x)
        return (2.0 * np.asarray(x)).tolist()

    return scaled


def _learn(f: object, sizes: tuple[int, ...] = (3, 30, 300, 3000)) -> None:
    for _ in range(8):
        for n in sizes:
            f([1.0] * n)  # type: ignore[operator]


def test_a_gated_function_is_tuned_with_its_experts_as_the_curves(tmp_path: Path) -> None:
    f = _gated(tmp_path / "p.json", _Clock())
    _learn(f)
    tuner = Tuner(f)
    key = tuner.key
    assert key[0] == f.qualname and key[1] == "host" and key[2] == -1  # type: ignore[attr-defined]
    python, numpy_trace = tuner.figure.data[0], tuner.figure.data[1]
    assert python.visible and numpy_trace.visible and not tuner.figure.data[2].visible
    medians = f.table()  # type: ignore[attr-defined]
    want = medians[(medians["expert"] == "numpy") & medians["median_s"].notna()]["median_s"]
    assert sorted(y for y in numpy_trace.y if y is not None) == pytest.approx(sorted(want))
    assert "reference only" in tuner.regret.value and "fastest expert" in tuner.regret.value
    assert "Your function" in tuner.info.value
    assert "(pure Python, the reference)" in tuner.info.value and "(NumPy)" in tuner.info.value
    assert tuner.cupy_row.layout.display == "none"  # CPU only: no CuPy slider shown
    fitted = tuner.state.fitted(key)
    assert fitted.simd_above is not None and 3 < fitted.simd_above < 300


def test_saving_a_tuned_function_is_reused_by_a_later_gate(tmp_path: Path) -> None:
    profile = tmp_path / "machine-profile.json"
    f = _gated(profile, _Clock())
    _learn(f)
    tuner = Tuner(f, path=str(profile))
    tuner.python_mode.value = ALWAYS  # pure Python at every size, by hand
    tuner.save_button.click()
    assert "Saved profile" in tuner.status.value
    saved = json.loads(profile.read_text())["functions"][f.qualname]  # type: ignore[attr-defined]
    assert saved["targets"]["-1"]["tuned"]["host"] == {"simd_above": None, "gpu_above": None}
    assert f.explain([1.0] * 3000).source == "set in the tuner"  # type: ignore[attr-defined]
    later = _gated(profile, _Clock())  # the same source, as after a kernel restart
    explanation = later.explain([1.0] * 3000)  # type: ignore[attr-defined]
    assert explanation.chosen == "python" and explanation.source == "set in the tuner"
    assert Tuner(later).python_mode.value == ALWAYS


def test_run_benchmark_sweeps_the_function_again(tmp_path: Path) -> None:
    import workbench

    f = _gated(tmp_path / "p.json", _Clock())
    _learn(f)
    tuner = Tuner(f)
    tuner.run_button.click()  # no inputs known yet: says what to do
    assert (
        "Run benchmark failed" in tuner.status.value and "workbench.calibrate" in tuner.status.value
    )
    workbench.calibrate(
        f, inputs=lambda n: ([1.0] * n,), sizes=[3, 30, 300, 3000, 30_000], budget_s=1
    )
    tuner.budget.value = 1
    tuner.run_button.click()
    assert "Measured:" in tuner.status.value and "points in" in tuner.status.value
    assert tuner.progress.value == tuner.progress.max > 1
    assert len(tuner.state.curves[tuner.key].sizes) == 5


def test_ops_and_functions_share_one_tuner(cpu_cal: Calibration, tmp_path: Path) -> None:
    f = _gated(tmp_path / "p.json", _Clock())
    _learn(f)
    tuner = Tuner(cpu_cal, f)
    assert tuner.op.options[-1] == f.qualname  # type: ignore[attr-defined]
    assert "add" in tuner.op.options
    tuner.op.value = f.qualname  # type: ignore[attr-defined]
    assert tuner.key[0] == f.qualname  # type: ignore[attr-defined]
    assert "seed table / reference only" in tuner.regret.value
    path = tuner.save(str(tmp_path / "both.json"))
    loaded = json.loads(path.read_text())
    assert "add|host|-1" in loaded["calibrated"] and f.qualname in loaded["functions"]  # type: ignore[attr-defined]


# --- what a first-time user reads -------------------------------------------------------


def test_a_threshold_in_never_mode_is_off_in_words_and_comes_back_at_its_size(
    cpu_cal: Calibration,
) -> None:
    tuner = Tuner(cpu_cal)
    tuner.residency.value = "host"
    key = tuner.key
    tuner.python_slider.value = 30_000.0
    assert not tuner.python_slider.disabled and tuner.python_slider.readout
    assert "up to 30,000 elements" in tuner.python_state.value

    tuner.python_mode.value = NEVER
    assert tuner.tiers[key].simd_above == 0
    assert tuner.python_slider.disabled and not tuner.python_slider.readout
    assert tuner.python_state.value.startswith("never:")
    assert not any(ch.isdigit() for ch in tuner.python_state.value)

    tuner.op.value = "vdot"  # another group, then back: still off, resting at 30,000
    tuner.op.value = "add"
    tuner.residency.value = "host"
    assert tuner.key == key and tuner.python_mode.value == NEVER
    assert tuner.python_slider.disabled and not tuner.python_slider.readout
    assert tuner.python_slider.value == pytest.approx(30_000.0, rel=STEP * 2.4)

    tuner.python_mode.value = AT  # back to a size: the last one, exactly
    assert tuner.tiers[key].simd_above == 30_000.0
    assert not tuner.python_slider.disabled and tuner.python_slider.readout
    assert _line_xs(tuner) == [30_000.0]
    tuner.python_mode.value = ALWAYS
    assert tuner.python_slider.disabled and tuner.python_state.value.startswith("always:")


def test_a_cupy_threshold_never_on_a_gpu_group_is_off_too() -> None:
    tuner = Tuner(gpu_cal())
    tuner.residency.value = "host"
    tuner.device.value = 0
    tuner.cupy_mode.value = AT
    tuner.cupy_slider.value = 500_000.0
    tuner.cupy_mode.value = NEVER
    assert tuner.cupy_slider.disabled and not tuner.cupy_slider.readout
    assert tuner.cupy_state.value.startswith("never:")
    tuner.cupy_mode.value = AT
    assert tuner.tiers[tuner.key].gpu_above == 500_000.0 and not tuner.cupy_slider.disabled


def test_devices_and_point_states_are_said_in_words() -> None:
    cal = gpu_cal()
    skipped = [
        Point("add", "host", -1, "python", 10**8, "too-slow", note="cap"),
        Point("add", "host", 0, "cupy", 10**8, "dominated", note="far behind"),
        Point("add", "device", 1, "python", 10**8, "settled", note="alone"),
    ]
    cal.points = [*cal.points, *skipped]
    tuner = Tuner(cal)
    info = tuner.info.value
    for state in ("ok", "too-slow", "dominated", "settled"):
        assert f"title='{words.STATES[state]}'" in info.replace("&#x27;", "'")
        assert f"<li><b>{state}</b>: {words.STATES[state]}</li>" in info
    tuner.residency.value = "host"
    labels = [label for label, _ in tuner.device.options]
    assert labels == ["CPU only", "GPU 0 (Test GPU A)", "GPU 1 (Test GPU B)"]
    tuner.device.value = 1
    shown = " ".join([tuner.figure.layout.title.text, tuner.regret.value, info])
    assert "GPU 1 (Test GPU B)" in tuner.figure.layout.title.text
    assert "-1" not in shown and "device " not in shown
    assert "What these numbers mean" in tuner.regret_help.value
    assert "geo-mean" in tuner.regret_help.value and "fitted" in tuner.regret_help.value


def test_every_control_says_what_it_does(cpu_cal: Calibration) -> None:
    tuner = Tuner(cpu_cal)
    for control in (
        tuner.op,
        tuner.residency,
        tuner.device,
        tuner.python_mode,
        tuner.cupy_mode,
        tuner.budget,
        tuner.run_button,
        tuner.fit_button,
        tuner.reset_button,
        tuner.save_button,
        tuner.path,
    ):
        assert control.tooltip and len(control.tooltip) > 20, control


def test_save_says_where_it_wrote_and_who_reads_it(cpu_cal: Calibration, tmp_path: Path) -> None:
    f = _gated(tmp_path / "p.json", _Clock())
    _learn(f)
    tuner = Tuner(cpu_cal, f)
    written = tuner.save(str(tmp_path / "mine.json"))
    status = tuner.status.value
    assert f"<code>{written.resolve()}</code>" in status
    assert "thresholds for 4 op groups" in status and "1 gated functions" in status
    assert "Router(path)" in status and "profile=path" in status


def _doubled(profile: Path, clock: _Clock) -> object:
    """A second gated function (its own qualified name), built like `_gated`'s."""
    import workbench

    @workbench.experts(size=len, clock=clock, profile=profile, autosave=False)
    def doubled(x: list[float]) -> list[float]:
        clock.now += 1.5e-6 * len(x)
        return [v + v for v in x]

    @doubled.expert("numpy")
    def _(x: list[float]) -> list[float]:
        clock.now += 3e-5 + 1e-8 * len(x)
        return (np.asarray(x) * 2.0).tolist()

    return doubled


def test_run_benchmark_redraws_the_chart_for_the_function_selected(tmp_path: Path) -> None:
    import workbench

    clock = _Clock()
    f, g = _gated(tmp_path / "p.json", clock), _doubled(tmp_path / "p.json", clock)
    _learn(f)
    _learn(g)
    tuner = Tuner(f, g)
    name = f.qualname  # type: ignore[attr-defined]
    assert tuner.op.options == (name, g.qualname)  # type: ignore[attr-defined]
    tuner.python_mode.value = NEVER
    workbench.calibrate(f, inputs=lambda n: ([1.0] * n,), sizes=[3, 30, 300, 3000], budget_s=1)
    tuner.budget.value = 1
    tuner.run_button.click()
    assert "Measured:" in tuner.status.value
    # the sweep put f after g in the list: the selection, the title and the shading follow f
    assert tuner.op.options == (g.qualname, name)  # type: ignore[attr-defined]
    assert tuner.op.value == name and tuner.key[0] == name
    title = view.chart_title(tuner.key, function=True)
    assert tuner.figure.layout.title.text == title
    assert title.startswith(html.escape(name)) and "host memory" in title and "CPU only" in title
    tier = tuner.tiers[tuner.key]
    assert tier.simd_above == 0  # the hand edit was kept
    want = view.shapes(tier, *view.x_range(tuner.state.curves[tuner.key], [tier]), False)
    assert [s.name for s in tuner.figure.layout.shapes] == [s["name"] for s in want]
    # what a view opened later (a reloaded page) starts from is the same
    assert tuner.figure._widget_layout["title"]["text"] == title
    assert [s["name"] for s in tuner.figure._widget_layout["shapes"]] == [s["name"] for s in want]
    assert f"<b>{html.escape(view.group_title(tuner.key, function=True))}</b>" in (
        tuner.regret.value
    )
