"""Issue 16 item 1 and Deliver 3: what the workbench fails at after the code ran (saving to
a file, a read-only folder or a full disk; rendering; recording; the store) is said beside
the report, and the code's own exception is the one raised, unchanged. Saving is all or
nothing. In the magic (a real InteractiveShell), in ``workbench.profile()`` and in
``workbench profile``; the faulty folders are real (tmpfs mounts, see filesystems.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from filesystems import fill, full_disk, listing, read_only, small_disk
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.cli import main
from workbench.errors import SaveError
from workbench.experiment.session import Session
from workbench.profiling.run import SaveWarning

RAISES = "%%optimize {line}\nx = sum(range(100))\nraise ValueError('mine')\n"


def run(shell: InteractiveShell, source: str) -> tuple[object, list[dict[str, str]], str]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    return result, [out.data for out in cap.outputs], cap.stderr


def assert_mine(result: object) -> None:
    error = result.error_in_exec  # type: ignore[attr-defined]
    assert type(error) is ValueError and error.args == ("mine",)
    assert error.__context__ is None and error.__cause__ is None


def shown(outputs: list[dict[str, str]]) -> str:
    return "".join(o.get("text/plain", "") for o in outputs)


# --- --save: a file, a read-only folder, a full disk ------------------------------------


def test_save_onto_a_file_keeps_the_users_error_and_shows_the_report(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    target = isolated_cwd / "taken"
    target.write_text("mine too")
    result, outputs, stderr = run(shell, RAISES.format(line=f"--no-store -o r --save {target}"))
    assert_mine(result)
    assert "INCOMPLETE" in shown(outputs)  # the report of what ran is displayed
    assert "the report was not saved" in stderr and "it is a file, not a folder" in stderr
    assert target.read_text() == "mine too"
    assert shell.user_ns["r"].error.startswith("ValueError")


def test_save_into_a_read_only_folder_keeps_the_users_error(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    folder = isolated_cwd / "ro"
    (folder).mkdir()
    (folder / "notes.txt").write_text("kept")
    with read_only(folder):
        before = listing(folder)
        result, outputs, stderr = run(shell, RAISES.format(line=f"--no-store --save {folder}"))
        assert listing(folder) == before
    assert_mine(result)
    assert "INCOMPLETE" in shown(outputs)
    assert "the report was not saved" in stderr and "nothing was written there" in stderr


def test_save_onto_a_full_disk_keeps_the_users_error_and_writes_nothing(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    with full_disk(isolated_cwd / "full") as disk:
        before = listing(disk)
        result, outputs, stderr = run(shell, RAISES.format(line=f"--no-store --save {disk}/rep"))
        assert listing(disk) == before  # no half-written folder, no temporary file
        assert not (disk / "rep").exists()
    assert_mine(result)
    assert "INCOMPLETE" in shown(outputs)
    assert "No space left on device" in stderr


def test_a_failed_save_without_an_error_is_one_usage_error_after_the_report(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    (isolated_cwd / "taken").write_text("")
    result, outputs, _ = run(shell, "%%optimize --no-store --save taken\nx = 1\n")
    error = result.error_in_exec  # type: ignore[attr-defined]
    assert isinstance(error, UsageError) and "the report was not saved" in str(error)
    assert "Category" in shown(outputs)


# --- rendering and recording ----------------------------------------------------------


def test_a_report_that_cannot_be_rendered_is_said_beside_the_users_error(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.report import bundle

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("renderer fault")  # an injected fault inside the renderer

    monkeypatch.setattr(bundle, "outputs", broken)
    result, outputs, stderr = run(shell, RAISES.format(line="--no-store -o r"))
    assert_mine(result)
    assert outputs == []
    assert "the report could not be displayed" in stderr
    assert "RuntimeError inside the workbench: renderer fault" in stderr
    assert "Traceback" not in stderr
    assert shell.user_ns["r"].complete is False  # the report itself is kept


@dataclasses.dataclass
class Point:
    x: int


def test_an_unexpected_error_while_keeping_outputs_is_said_beside_the_report(
    shell: InteractiveShell,
) -> None:
    shell.user_ns["Point"] = Point
    # a dataclass whose field was deleted pickles, but its stored form cannot be built
    cell = "%%optimize --baseline b -o r\np = Point(1)\ndel p.x\np\n"
    result, outputs, _ = run(shell, cell)
    error = result.error_in_exec  # type: ignore[attr-defined]
    assert isinstance(error, UsageError)
    assert "baseline 'b' was not recorded: an unexpected AttributeError inside the workbench" in (
        str(error)
    )
    assert "Category" in shown(outputs) and shell.user_ns["r"].complete


def test_a_store_on_a_full_disk_is_said_beside_the_users_error(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    with full_disk(isolated_cwd / "full") as disk:
        before = listing(disk)
        result, outputs, stderr = run(shell, RAISES.format(line=f"--store {disk}/runs.sqlite"))
        assert listing(disk) == before
    assert_mine(result)
    assert "INCOMPLETE" in shown(outputs)
    assert "was not recorded" in stderr


def test_a_candidate_whose_store_fills_up_after_it_ran_keeps_its_error(
    isolated_cwd: Path,
) -> None:
    with small_disk(isolated_cwd / "disk") as disk:
        session = Session({}, store=disk / "runs.sqlite", call_cost_s=1e-7)
        session.baseline("b", "x = 1\nx", session.options({}))

        @contextlib.contextmanager
        def filling() -> Iterator[None]:  # the disk fills up while the candidate runs
            fill(disk)
            yield

        code = "x = 2\nraise KeyError('cand')\n"
        outcome = session.candidate("c", code, session.options({}), around=filling)
        session.close()
    assert type(outcome.error) is KeyError and outcome.error.args == ("cand",)
    assert outcome.problem is not None and "candidate 'c' was not recorded" in outcome.problem
    assert outcome.report.complete is False


# --- workbench.profile() ------------------------------------------------------------------


def mine() -> None:
    sum(range(100))
    raise ValueError("mine")


def test_profile_api_keeps_the_users_error_and_warns_about_the_save(isolated_cwd: Path) -> None:
    (isolated_cwd / "taken").write_text("")
    with pytest.warns(SaveWarning, match="it is a file"), pytest.raises(ValueError) as caught:
        workbench.profile(mine, save="taken", call_cost_s=1e-7)
    assert caught.value.args == ("mine",) and caught.value.__context__ is None


def test_profile_api_without_an_error_raises_the_save_error_holding_the_report(
    isolated_cwd: Path,
) -> None:
    (isolated_cwd / "taken").write_text("")
    with pytest.raises(SaveError, match="it is a file") as caught:
        workbench.profile("x = 1", save="taken", call_cost_s=1e-7)
    assert isinstance(caught.value.report, workbench.Report)


def test_profile_api_returning_errors_still_raises_the_save_error_with_the_report(
    isolated_cwd: Path,
) -> None:
    (isolated_cwd / "taken").write_text("")
    with pytest.raises(SaveError) as caught:
        workbench.profile(mine, save="taken", on_error="return", call_cost_s=1e-7)
    report = caught.value.report
    assert isinstance(report, workbench.Report) and report.error == "ValueError: mine"


# --- the command line -----------------------------------------------------------------------


def test_cli_reports_the_scripts_error_when_the_save_fails(
    isolated_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = isolated_cwd / "job.py"
    script.write_text("total = sum(range(100))\nraise ValueError('mine')\n")
    (isolated_cwd / "taken").write_text("")
    code = main(["profile", "--out", "taken", str(script)])
    out = capsys.readouterr()
    assert code == 1
    assert "Category" in out.out  # the report, as text
    assert "workbench: error: cannot save the report to 'taken'" in out.err
    assert "ValueError: mine" in out.err and "job.py failed" in out.err


def test_cli_exits_2_when_only_the_save_failed(
    isolated_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = isolated_cwd / "job.py"
    script.write_text("total = sum(range(100))\n")
    (isolated_cwd / "taken").write_text("")
    assert main(["profile", "--out", "taken", str(script)]) == 2
    assert "cannot save the report" in capsys.readouterr().err


# --- all or nothing ---------------------------------------------------------------------------

LINES = textwrap.dedent(
    """
    def hot(n):
        total = 0
        for i in range(n):
            total += i * i
        return total
    """
)


def test_saving_twice_leaves_only_the_second_reports_files(
    isolated_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_cwd / "hotmod.py").write_text(LINES)
    monkeypatch.syspath_prepend(str(isolated_cwd))
    namespace: dict[str, object] = {}
    exec("from hotmod import hot", namespace)
    first = workbench.profile("hot(2000)", namespace, functions=["hot"], call_cost_s=1e-7)
    first.save("out")
    assert (isolated_cwd / "out" / "lines.csv").is_file()
    (isolated_cwd / "out" / "mine.txt").write_text("not the workbench's")
    second = workbench.profile("hot(10)", namespace, call_cost_s=1e-7)
    written = second.save("out")
    names = {p.name for p in (isolated_cwd / "out").iterdir()}
    assert "lines.csv" not in names and "lines" not in written
    assert names == {p.name for p in written.values()} | {"mine.txt"}
    assert (isolated_cwd / "out" / "report.md").read_text() == second.to_markdown()


def test_a_save_that_cannot_render_writes_nothing(isolated_cwd: Path) -> None:
    report = workbench.profile("x = 1", call_cost_s=1e-7)
    broken = dataclasses.replace(report, stacks=[((("f", 1, "g"),), float("nan"))])
    with pytest.raises(SaveError, match="rendering its files failed"):
        broken.save("out")
    assert not (isolated_cwd / "out").exists()
