"""What a gated function learned is saved in the machine profile and reused by the next
process (a real restart: each run is a fresh Python), keyed by the source hash and the
machine key; a stale or foreign record is not used, and explain() says why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.errors import RouteError
from workbench.route.experts import experts

MODULE = """
import sys
import numpy as np
import workbench

class Clock:
    now = 0.0
    def __call__(self):
        return self.now

clock = Clock()
calls = {"python": 0, "numpy": 0}

@workbench.experts(size=lambda a: len(a), clock=clock, profile=PROFILE, autosave=AUTOSAVE)
def total(a):
    calls["python"] += 1
    clock.now += 1e-6 * len(a)
    return float(sum(a))

@total.expert("numpy")
def _(a):
    calls["numpy"] += 1
    clock.now += 2e-5 + 1e-8 * len(a)
    return float(np.sum(a))

def loop(rounds):
    for _ in range(rounds):
        for n in (5, 5000):
            total([1.0] * n)
"""


def write_module(folder: Path, profile: Path, *, autosave: bool = False, extra: str = "") -> None:
    text = MODULE.replace("PROFILE", repr(str(profile))).replace("AUTOSAVE", repr(autosave))
    (folder / "learnme.py").write_text(text + extra)


def run(folder: Path, body: str) -> str:
    code = "import learnme\n" + body
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_restarted_process_reuses_the_saved_choices_without_learning_again(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "machine-profile.json"
    write_module(tmp_path, profile)
    first = run(tmp_path, "learnme.loop(10)\nprint(learnme.total.save())\nprint(learnme.calls)")
    assert str(profile) in first
    saved = json.loads(profile.read_text())["functions"]["learnme.total"]
    assert saved["experts"] == ["python", "numpy"] and saved["source_hash"]
    assert saved["targets"]["-1"]["key"]["cpu"]
    second = run(
        tmp_path,
        "learnme.loop(10)\n"
        "print(learnme.calls)\n"
        "print(learnme.total.explain([1.0] * 5000))\n"
        "print(learnme.total.explain([1.0] * 5))",
    )
    # nothing is explored again: each size ran its saved choice only
    assert "{'python': 10, 'numpy': 10}" in second
    assert "chosen: numpy (measured on live calls, restored from the saved profile)" in second
    assert "chosen: python (measured on live calls, restored from the saved profile)" in second
    assert f"2 bucket choice(s) restored from {profile}" in second


def test_saved_choices_are_not_used_once_the_source_changed(tmp_path: Path) -> None:
    profile = tmp_path / "machine-profile.json"
    write_module(tmp_path, profile)
    run(tmp_path, "learnme.loop(10)\nlearnme.total.save()")
    write_module(
        tmp_path, profile, extra="\n@total.expert('fast')\ndef _(a):\n    return float(sum(a))\n"
    )
    text = run(tmp_path, "print(learnme.total.explain([1.0] * 5000))")
    assert "not used: the source of learnme.total or its experts changed" in text
    assert "not decided yet" in text


def test_saved_choices_from_other_versions_are_not_used_and_say_which_field(tmp_path: Path) -> None:
    profile = tmp_path / "machine-profile.json"
    write_module(tmp_path, profile)
    run(tmp_path, "learnme.loop(10)\nlearnme.total.save()")
    data = json.loads(profile.read_text())
    data["functions"]["learnme.total"]["targets"]["-1"]["key"]["numpy"] = "0.9"
    profile.write_text(json.dumps(data))
    text = run(tmp_path, "print(learnme.total.explain([1.0] * 5000))")
    assert "not used: learned on another machine or with other versions (numpy: '0.9' vs" in text


def test_what_was_learned_is_saved_at_exit_without_asking(tmp_path: Path) -> None:
    profile = tmp_path / "machine-profile.json"
    write_module(tmp_path, profile, autosave=True)
    run(tmp_path, "learnme.loop(10)")
    assert "learnme.total" in json.loads(profile.read_text())["functions"]


def test_a_profile_that_cannot_be_read_is_left_alone_and_saving_says_why(tmp_path: Path) -> None:
    profile = tmp_path / "broken.json"
    profile.write_text("{not json")

    @experts(profile=profile)
    def f(x: list[int]) -> int:
        return sum(x)

    assert f([1, 2]) == 3
    assert any("saved profile" in line and "not read" in line for line in f.status)
    with pytest.raises(RouteError, match="left as it is"):
        f.save()
    assert profile.read_text() == "{not json"


def test_saving_keeps_the_rest_of_the_profile(tmp_path: Path) -> None:
    from workbench.calibration.fit import fit
    from workbench.route.machine_profile import MachineProfile

    sys.path.insert(0, str(Path(__file__).parent))
    from test_calibrate import synthetic

    profile = tmp_path / "machine-profile.json"
    fit(synthetic()).profile(name="calibrated here").save(profile)

    @experts(profile=profile, autosave=False)
    def g(x: list[int]) -> int:
        return sum(x)

    g([1, 2, 3])
    g.save()
    loaded = MachineProfile.load(profile)
    assert loaded.name == "calibrated here" and "add|host|-1" in loaded.calibrated
    assert any(name.endswith(".g") for name in loaded.functions)
