"""Calibration on this machine (CPU): sweep, stops, interrupt, fit, profiles, command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from workbench.calibration import Calibration, CalibrationError, MachineKey, Point, calibrate
from workbench.calibration import result as r
from workbench.calibration.families import families, log_sizes
from workbench.calibration.fit import (
    choose,
    crossovers,
    curves,
    fit,
    geo_mean_regret,
    regret,
    seed_tier,
)
from workbench.calibration.text import thresholds_text
from workbench.calibration.ties import ties
from workbench.cli import main
from workbench.errors import RouteError
from workbench.route import Router
from workbench.route.machine_profile import MachineProfile, ProfileMismatchWarning, Tier

SIZES = [10, 100, 1_000, 10_000]
STATUSES = {
    r.OK,
    r.FAILED,
    r.OOM,
    r.MISMATCH,
    r.DOMINATED,
    r.TOO_SLOW,
    r.MEMORY,
    r.SETTLED,
    r.BUDGET,
}


@pytest.fixture(scope="module")
def small() -> Calibration:
    return calibrate(["add", "vdot", "standard_scale"], budget_s=5, sizes=SIZES, gpu_enabled=False)


def test_log_sizes_cover_ten_to_1e8_in_half_decades() -> None:
    sizes = log_sizes()
    assert sizes[0] == 10 and sizes[-1] == 100_000_000 and len(sizes) == 15
    with pytest.raises(CalibrationError, match="lo < hi"):
        log_sizes(100, 10)


def test_unknown_op_and_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(CalibrationError, match="Did you mean add"):
        families(["addd"])
    with pytest.raises(CalibrationError, match="budget must be a positive"):
        calibrate(["add"], budget_s=0)
    with pytest.raises(CalibrationError, match="float64 or float32"):
        calibrate(["add"], dtype="complex-ish")
    with pytest.raises(CalibrationError, match="unknown residency"):
        calibrate(["add"], residencies=["disk"])


def test_sweep_times_every_backend_and_residency_on_the_cpu(small: Calibration) -> None:
    frame = small.frame()
    assert set(frame.status) <= STATUSES
    assert set(frame.residency) == {"python", "host"}  # CPU only: no device residency
    # the router's backends, and the independent oracle's idiomatic code beside them
    assert set(frame.backend) == {"python", "numpy", "idiom-python", "idiom-numpy"}
    ok = frame[frame.status == r.OK]
    assert (ok.median_s > 0).all() and np.isfinite(ok.median_s).all()
    assert (ok.low_s <= ok.median_s).all() and (ok.median_s <= ok.high_s).all()
    assert (ok.calls >= 3).all()
    # every op ran on both backends at the smallest size, results checked against NumPy
    first = ok[ok["size"] == ok["size"].min()]
    assert len(first.groupby(["op", "residency", "backend"])) == 3 * 2 * 4
    assert small.key.gpu == "none" and small.key.numpy == np.__version__


def test_far_slower_backends_stop_and_say_why() -> None:
    cal = calibrate(
        ["matmul"],
        budget_s=5,
        sizes=[16, 100, 400, 1_600, 6_400],
        residencies=["host"],
        gpu_enabled=False,
    )
    python = [p for p in cal.points if p.backend == "python"]
    stopped = [p for p in python if p.status in (r.DOMINATED, r.TOO_SLOW)]
    assert stopped
    assert "slower than the best" in stopped[0].note or "predicted" in stopped[0].note


def test_interrupt_returns_what_was_measured() -> None:
    def stop_after_five(done: int, total: int, label: str) -> None:
        if done == 5:
            raise KeyboardInterrupt

    cal = calibrate(["add"], budget_s=5, sizes=SIZES, progress=stop_after_five, gpu_enabled=False)
    assert cal.interrupted and len(cal.points) == 5
    assert "interrupted" in cal.summary()


def test_an_exhausted_budget_records_the_rest_as_skipped() -> None:
    cal = calibrate(["add", "sum"], budget_s=0.001, sizes=SIZES)
    assert any(p.status == r.BUDGET for p in cal.points)
    assert all(p.status in STATUSES for p in cal.points)


def point(op: str, res: str, backend: str, size: int, t: float, status: str = r.OK) -> Point:
    return Point(op, res, -1, backend, size, status, t, t * 0.95, t * 1.05, t * 2, 5)


def synthetic() -> Calibration:
    """Python wins below about 1,000 elements, NumPy above (times made for the fit)."""
    pts = []
    for size in (10, 100, 1_000, 10_000, 100_000):
        pts.append(point("add", "host", "python", size, 1e-7 * size))
        pts.append(point("add", "host", "numpy", size, 1e-4 + 1e-9 * size))
    return Calibration(MachineKey(cpu="test"), "2026-11-22T00:00Z", 1.0, pts)


def test_nan_and_zero_timings_never_reach_a_fit() -> None:
    cal = synthetic()
    cal.points.append(Point("add", "host", -1, "python", 1_000_000, r.OK, math.nan, 0, 0))
    cal.points.append(Point("add", "host", -1, "numpy", 1_000_000, r.OK, 0.0, 0.0, 0.0))
    c = curves(cal, ("add", "host", -1))
    assert 1_000_000 not in c.sizes
    assert all(np.isfinite(c.median[b]).all() for b in c.backends())


def test_fit_finds_the_crossover_and_beats_the_seed_table() -> None:
    cal = synthetic()
    result = fit(cal)
    tier = result.tiers[("add", "host", -1)]
    assert tier.gpu_above is None and tier.simd_above is not None
    assert 100 < tier.simd_above < 10_000
    (cross,) = crossovers(result.curves[("add", "host", -1)])
    assert (cross.faster_small, cross.faster_large) == ("python", "numpy")
    assert 100 < cross.size < 10_000 and cross.low <= cross.size <= cross.high
    c = result.curves[("add", "host", -1)]
    assert regret(c, tier).geo_mean == pytest.approx(1.0)
    seed = regret(c, seed_tier("add"))  # the seed table keeps Python up to 1e6 elements
    assert seed.geo_mean > 2 and seed.excess_s > 0
    assert list(choose(Tier(1_000, None), c.sizes, False)) == [0, 0, 0, 1, 1]


def test_regret_charges_a_backend_that_stopped_by_extrapolating() -> None:
    cal = synthetic()
    cal.points = [p for p in cal.points if not (p.backend == "python" and p.size > 1_000)]
    c = curves(cal, ("add", "host", -1))
    always_python = regret(c, Tier(None, None))
    assert always_python.geo_mean > 3  # python at 1e5 extrapolated to 1e-2 s vs 2e-4 s


def test_profile_round_trip_and_the_router_uses_it(tmp_path: Path) -> None:
    result = fit(synthetic())
    path = result.profile(name="mine").save(tmp_path / "p.json")
    loaded = MachineProfile.load(path)
    assert loaded.calibrated["add|host|-1"] == result.tiers[("add", "host", -1)]
    assert Calibration.from_dict(loaded.calibration or {}).points == synthetic().points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileMismatchWarning)  # cpu 'test' is not here
        router = Router(path, gpu=False)
    assert router.policy == "calibrated"
    small, large = np.ones(50), np.ones(50_000)
    assert router.decide("add", small, small).backend.value == "python"
    assert router.decide("add", large, large).backend.value == "numpy"
    assert np.array_equal(router.run("add", small, small), small + small)
    text = str(router.explain("add", small, small))
    assert "calibrated thresholds for add" in text
    # ops the profile has not calibrated fall back to the end-to-end model, and say so
    assert "no calibration for exp" in router.explain("exp", large).reason


def test_a_profile_from_elsewhere_loads_with_a_warning_naming_the_field(tmp_path: Path) -> None:
    path = fit(synthetic()).profile().save(tmp_path / "p.json")
    with pytest.warns(ProfileMismatchWarning, match=r"cpu: 'test' vs"):
        Router(path, gpu=False)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(schema=99), "field 'schema' is 99, newer"),
        (lambda d: d.pop("name"), "field 'name' is missing"),
        (lambda d: d["calibrated"].update({"add|disk|-1": {}}), "'add|disk|-1'"),
        (
            lambda d: d["calibrated"].update(
                {"add|host|-1": {"simd_above": -3, "gpu_above": None}}
            ),
            r"calibrated.add\|host\|-1.simd_above",
        ),
        (lambda d: d.update(calibration=[1]), "field 'calibration' must be an object"),
    ],
)
def test_bad_profiles_name_the_field(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    data = fit(synthetic()).profile().to_dict()
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RouteError, match=message):
        MachineProfile.load(path)


def test_a_file_that_is_not_json_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(RouteError, match="not valid JSON"):
        Router(path)


def test_calibrate_command_writes_a_profile_the_router_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hw.json"
    code = main(
        [
            "calibrate",
            "--ops",
            "add",
            "max",
            "--budget",
            "4",
            "--cpu-only",
            "--no-costs",
            "-o",
            str(out),
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Fitted thresholds" in printed.out and "geo-mean regret" in printed.out
    assert "calibrating:" in printed.err  # the progress lines (no terminal here)
    router = Router(out, gpu=False)  # measured here: no warning
    assert router.policy == "calibrated" and "max|host|-1" in router.profile.calibrated


def test_calibrate_command_needs_only_numpy(tmp_path: Path) -> None:
    blocked = [
        "pandas",
        "IPython",
        "plotly",
        "scipy",
        "ipywidgets",
        "pyinstrument",
        "line_profiler",
    ]
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from workbench.cli import main\n"
        f"raise SystemExit(main(['calibrate', '--ops', 'sum', '--budget', '2', '-o', {str(tmp_path / 'p.json')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p.json").is_file()


def test_bad_command_input_gets_one_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--ops", "nosuchop", "--budget", "1"]) == 2
    assert "unknown op 'nosuchop'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[1] / "data" / "hardware").glob("*.json"))
)
def test_shipped_profiles_load_and_beat_the_seed_table(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileMismatchWarning)  # measured on other machines
        router = Router(path, gpu=False)
    profile = router.profile
    assert router.policy == "calibrated" and profile.date and profile.key["cpu"]
    cal = Calibration.from_dict(profile.calibration or {})
    result = fit(cal)
    seed = {k: seed_tier(k[0]) for k in result.curves}
    saved = {
        (op, res, int(dev)): tier
        for op, res, dev, tier in ([*k.split("|"), t] for k, t in profile.calibrated.items())
    }
    assert geo_mean_regret(result.curves, saved) < 1.05 < 2 < geo_mean_regret(result.curves, seed)


def _with_oracle(points: list[Point]) -> Calibration:
    return Calibration(MachineKey(cpu="test", gpu="0: Test GPU"), "2026-11-22T00:00Z", 1.0, points)


def test_regret_is_against_idiomatic_code_timed_apart() -> None:
    pts = synthetic().points
    for size in (10, 100, 1_000, 10_000, 100_000):
        # idiomatic code is 10% faster than the router's Python below 1,000, equal above
        pts.append(point("add", "host", "idiom-python", size, 0.9e-7 * size))
        pts.append(point("add", "host", "idiom-numpy", size, 1e-4 + 1e-9 * size))
    result = fit(Calibration(MachineKey(cpu="test"), "2026-11-22T00:00Z", 1.0, pts))
    c = result.curves[("add", "host", -1)]
    assert c.independent
    assert c.reference()[0] == pytest.approx(0.9e-6)  # the idiom, not the router's 1e-6
    score = regret(c, result.tiers[("add", "host", -1)])
    assert score.worst == pytest.approx(1 / 0.9, rel=1e-6)  # the router's own overhead shows
    assert "idiomatic code, timed apart" in thresholds_text(result)


def test_backends_within_20_percent_are_a_tie_reported_as_either() -> None:
    pts = []
    for size in (10, 100, 1_000, 10_000):
        pts.append(point("sum", "python", "python", size, 1e-6 * size))
        numpy_t = 1.1e-6 * size if size <= 1_000 else 1e-7 * size  # within 20% up to 1,000
        pts.append(point("sum", "python", "numpy", size, numpy_t))
    c = curves(Calibration(MachineKey(cpu="t"), "d", 1.0, pts), ("sum", "python", -1))
    found = ties(c)
    assert [(t.low, t.high, t.a, t.b) for t in found] == [(10, 1_000, "numpy", "python")]
    assert "either numpy/python 10..1,000" in thresholds_text(
        fit(Calibration(MachineKey(cpu="t"), "d", 1.0, pts))
    )


def test_host_data_gets_a_threshold_for_plain_copies_too(tmp_path: Path) -> None:
    pts = []
    for size in (1_000, 100_000, 10_000_000):
        pts.append(point("add", "host", "numpy", size, 1e-9 * size))
        staged = Point(
            "add", "host", 0, "cupy", size, r.OK, 2e-5 + 2e-10 * size, 1.9e-5, 2.1e-5 + 2e-10 * size
        )
        plain = Point(
            "add",
            "host",
            0,
            "idiom-cupy",
            size,
            r.OK,
            2e-5 + 2e-9 * size,
            1.9e-5,
            2.1e-5 + 2e-9 * size,
        )
        pts += [staged, plain]
    result = fit(_with_oracle(pts))
    key = ("add", "host", 0)
    assert result.tiers[key].gpu_above is not None  # the router's staged copies pay
    assert result.plain_copy[key] is None  # plain cupy.asarray copies never do here
    path = result.profile(name="copies").save(tmp_path / "p.json")
    loaded = MachineProfile.load(path)
    assert loaded.plain_copy == {"add|host|0": None}
