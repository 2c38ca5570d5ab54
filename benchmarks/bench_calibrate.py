"""Calibration: how long a full one takes, whether two agree, and how well a fit carries
over to a sweep it was not fitted on.

Targets (issue [calibration]):
- a full calibration (eight op families, at least 10 sizes, every backend, both
  residencies) in at most 60 s on a GPU machine and 30 s CPU-only;
- two calibrations in a row agree on every crossover within one size step;
- the thresholds fitted on the first calibration have a geometric-mean slowdown of at
  most 1.05 against the oracle of a third, fresh sweep;
- large host->device copies (the router's method) reach at least 80% of the pinned rate.

Prints its figures; asserts nothing.

    python benchmarks/bench_calibrate.py [--out PROFILE.json] [--budget S] [--device N]
"""

from __future__ import annotations

import argparse
import math
import platform
import time

from workbench.calibration import Calibration, calibrate
from workbench.calibration.fit import Fit, fit, geo_mean_regret, seed_tier
from workbench.calibration.text import bandwidth_text, crossovers_text, thresholds_text
from workbench.calibration.transfer import best_method
from workbench.machine import cpu_name
from workbench.route.measure import measure_profile

STEP = 0.5  # decades per size step: two sizes per decade


def run(budget: float | None, devices: list[int] | None, label: str) -> tuple[Calibration, float]:
    start = time.perf_counter()
    cal = calibrate(budget_s=budget, devices=devices)
    wall = time.perf_counter() - start
    print(f"{label}: {wall:.1f} s wall, {cal.summary()}")
    return cal, wall


def agreement(a: Fit, b: Fit) -> tuple[int, int, list[str]]:
    """Crossovers found in both and within one size step, total compared, and the rest."""
    first = {(c.key, c.faster_small, c.faster_large): c for c in a.crossovers}
    second = {(c.key, c.faster_small, c.faster_large): c for c in b.crossovers}
    same, notes = 0, []
    for k in sorted(set(first) | set(second), key=str):
        x, y = first.get(k), second.get(k)
        if x is None or y is None:
            found = x or y
            assert found is not None
            notes.append(
                f"only in run {'1' if y is None else '2'}: {k[0]} {k[1]}->{k[2]} at "
                f"{found.size:,.0f} (range {found.low:,.0f}..{found.high:,.0f})"
            )
            continue
        steps = abs(math.log10(x.size) - math.log10(y.size)) / STEP
        if steps <= 1:
            same += 1
        else:
            notes.append(
                f"{k[0]} {k[1]}->{k[2]}: {x.size:,.0f} vs {y.size:,.0f} ({steps:.1f} steps)"
            )
    return same, len(set(first) | set(second)), notes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", help="write the first calibration's profile here")
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--device", type=int, action="append")
    parser.add_argument("--keep", help="folder to save the three calibrations in (JSON)")
    args = parser.parse_args()
    print(f"machine: {cpu_name()}; Python {platform.python_version()}")
    cal1, wall1 = run(args.budget, args.device, "calibration 1")
    cal2, wall2 = run(args.budget, args.device, "calibration 2")
    cal3, _ = run(args.budget, args.device, "fresh sweep 3")
    fit1, fit2, fit3 = fit(cal1), fit(cal2), fit(cal3)
    if args.keep:
        import json
        from pathlib import Path

        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        for n, cal in enumerate((cal1, cal2, cal3), 1):
            (folder / f"calibration{n}.json").write_text(json.dumps(cal.to_dict()))
    target = 60 if cal1.key.gpu != "none" else 30
    print(f"\nfull calibration: {wall1:.1f} s and {wall2:.1f} s (target <= {target} s)")
    same, total, notes = agreement(fit1, fit2)
    print(f"crossovers agreeing within one size step: {same} of {total}")
    for note in notes:
        print(f"  {note}")
    carried = geo_mean_regret(fit3.curves, fit1.tiers)
    seed = geo_mean_regret(fit3.curves, {k: seed_tier(k[0]) for k in fit3.curves})
    own = geo_mean_regret(fit3.curves, fit3.tiers)
    print(
        f"geo-mean slowdown vs the oracle of sweep 3: thresholds fitted on sweep 1 {carried:.3f} "
        f"(target <= 1.05), seed table {seed:.3f}, sweep 3's own fit {own:.3f}"
    )
    if cal3.bandwidth:
        print(f"\n{bandwidth_text(fit3)}")
        for device in sorted({b.device for b in cal3.bandwidth}):
            rates = [b for b in cal3.bandwidth if b.device == device]
            rate = {(b.direction, b.method): b.bytes_per_s for b in rates}
            method = best_method(rates, "h2d")
            share = rate[("h2d", method)] / rate[("h2d", "pinned")]
            print(
                f"GPU {device}: router's h2d method {method}: {share:.0%} of the pinned rate "
                "(target >= 80%)"
            )
    print(f"\nthresholds fitted on calibration 1\n{thresholds_text(fit1)}")
    print(f"\ncrossovers of calibration 1\n{crossovers_text(fit1)}")
    if args.out:
        costs = measure_profile()
        path = fit1.profile(name="calibrated", costs=costs).save(args.out)
        print(f"\nprofile written to {path}")


if __name__ == "__main__":
    main()
