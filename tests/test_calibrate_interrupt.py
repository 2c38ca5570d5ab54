"""`workbench calibrate` interrupted with Ctrl-C never overwrites a complete profile with a
partial one (issue [reliability-security] item 11): a real SIGINT to a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from workbench.calibration import Calibration
from workbench.route.machine_profile import MachineProfile

CALIBRATE = [sys.executable, "-m", "workbench", "calibrate", "--ops"]


def _complete_profile(path: Path) -> bytes:
    done = subprocess.run(
        [*CALIBRATE, "add", "--budget", "2", "--cpu-only", "--no-costs", "-o", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return path.read_bytes()


def _interrupt(path: Path) -> subprocess.CompletedProcess[str]:
    """Start a long calibration over `path`, send SIGINT once it has measured something."""
    process = subprocess.Popen(
        [
            *CALIBRATE,
            "add",
            "sum",
            "max",
            "--budget",
            "60",
            "--cpu-only",
            "--no-costs",
            "-o",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()  # the first progress line: a tenth of the points done
    assert "calibrating:" in line, line
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, line + err)


def test_ctrl_c_leaves_a_complete_profile_as_it_was_and_says_where_the_partial_went(
    tmp_path: Path,
) -> None:
    target = tmp_path / "hw.json"
    before = _complete_profile(target)
    done = _interrupt(target)
    assert done.returncode == 130, done.stderr
    assert target.read_bytes() == before  # the complete profile is untouched
    partial = tmp_path / "hw.partial.json"
    assert partial.is_file(), done.stderr
    assert str(partial) in done.stderr and "not written over" in done.stderr
    data = MachineProfile.load(partial).calibration
    assert data is not None and Calibration.from_dict(data).interrupted


def test_ctrl_c_without_a_profile_there_still_writes_the_partial_one_aside(
    tmp_path: Path,
) -> None:
    target = tmp_path / "new.json"
    done = _interrupt(target)
    assert done.returncode == 130, done.stderr
    assert not target.exists()
    partial = tmp_path / "new.partial.json"
    assert partial.is_file() and json.loads(partial.read_text())["calibration"]["interrupted"]
    assert str(partial) in done.stderr
    assert os.environ.get("WORKBENCH_PROFILE") is None  # nothing global was changed


def test_calibrating_over_a_profile_keeps_what_gated_functions_learned_there(
    tmp_path: Path,
) -> None:
    import workbench

    target = tmp_path / "hw.json"

    @workbench.experts(profile=target, autosave=False)
    def total(x: list[float]) -> float:
        return sum(x)

    total([1.0, 2.0])
    total.save()
    _complete_profile(target)
    loaded = MachineProfile.load(target)
    assert loaded.calibration is not None and any(k.endswith(".total") for k in loaded.functions)
