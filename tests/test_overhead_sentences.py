"""What the report says about the profiler's cost: no advice to do what was just done, no
measured-looking figure for a cost nobody measured."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell

from workbench.profiling.overhead import Overhead

HOT = "def hot(n):\n    t = 0\n    for i in range(n):\n        t += i % 7\n    return t\n"


def test_a_measured_cprofile_overhead_does_not_send_the_user_to_overhead_again() -> None:
    measured = Overhead.measured(18.2, 5.5, 18_000_000)
    warning = measured.warning()
    assert warning is not None and warning.startswith("cProfile's own cost is about 70%")
    assert "--overhead" not in warning
    estimated = Overhead.estimated(18.2, 18_000_000, 12.7)
    assert "or compare with --overhead" in (estimated.warning() or "")


def test_a_sampler_measured_against_a_plain_run_is_not_called_cprofile() -> None:
    sampler = Overhead.measured(10.0, 6.0, 0, samples=5000, sample_s=2e-5)
    warning = sampler.warning()
    assert warning is not None
    assert "cProfile" not in warning and "corrected" not in warning
    assert warning.startswith("The sampler's cost was about 40% of the profiled time")


def test_pyinstrument_does_not_claim_a_per_sample_cost_it_did_not_measure(
    shell: InteractiveShell,
) -> None:
    shell.run_cell(HOT)
    result = shell.run_cell("%%optimize -q -o r --mode pyinstrument\nhot(400000)\n")
    assert result.error_in_exec is None
    overhead = shell.user_ns["r"].overhead
    assert overhead.method == "sampled" and overhead.samples > 0 and overhead.sample_s == 0
    sentence = overhead.sentence()
    assert "held the interpreter" not in sentence and "at least" not in sentence
    assert "not measured in this mode" in sentence


def test_a_plain_run_slower_than_the_profiled_one_is_noise_not_a_factor() -> None:
    # --mode sample --overhead on arc-dsl: plain 8.00 s, profiled 7.81 s.
    sentence = Overhead.measured(7.81, 8.00, 0, samples=780, sample_s=2e-5).sentence()
    assert sentence.startswith(
        "No inflation measurable: the plain run (8.00 s) was no faster than the profiled one "
        "(7.81 s), so the profiler's cost was within the run-to-run noise."
    )
    assert "inflated" not in sentence and "1.00x" not in sentence
    assert "780 samples" in sentence
    same = Overhead.measured(2.0, 2.0, 1000).sentence()
    assert same.startswith("No inflation measurable") and "x" not in same.split("(")[0]
    slower = Overhead.measured(2.5, 2.0, 1000).sentence()
    assert slower.startswith("Profiling inflated this run 1.25x (measured: plain run 2.00 s")
