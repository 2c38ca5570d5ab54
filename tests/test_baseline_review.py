"""Issue 16, Deliver 2 and round one's wiring: a stored baseline's code is shown and
confirmed before ``--candidate`` re-runs it when another session recorded it (an earlier
kernel, a store from elsewhere): with ``--trust-baseline``, or a "y" typed where the
frontend can answer input() (a real kernel with stdin, answered through jupyter_client),
else one UsageError naming the flag and nothing runs. ``--keep-outputs`` keeps a
baseline's outputs whole."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.errors import ExperimentError
from workbench.experiment.measure import Plan
from workbench.experiment.session import Session
from workbench.experiment.stored_outputs import MAX_STORED_BYTES, Fingerprint, decode
from workbench.store.db import RunStore
from workbench.store.provenance import BaselineReview

BASE = "marker.append('baseline ran')\ntotal = sum(range(1000))\ntotal"
CAND = "total = (999 * 1000) // 2\ntotal"


def recorded_elsewhere(store: Path) -> None:
    """A baseline recorded by another session (another kernel, another machine)."""
    other = Session({"marker": []}, store=store, call_cost_s=1e-7)
    outcome = other.baseline("b", BASE, other.options({}))
    assert outcome.problem is None
    other.close()


@pytest.fixture
def store(isolated_cwd: Path) -> Path:
    path = isolated_cwd / "runs.sqlite"
    recorded_elsewhere(path)
    return path


def session_for(store: Path) -> Session:
    return Session({"marker": []}, store=store, call_cost_s=1e-7)


def test_a_baseline_from_another_session_is_refused_with_its_code(store: Path) -> None:
    session = session_for(store)
    with pytest.raises(ExperimentError) as caught:
        session.candidate("c", CAND, session.options({}), plan=Plan(budget_s=0.2))
    message = str(caught.value)
    assert "this kernel did not record it" in message and "another kernel session" in message
    assert "    marker.append('baseline ran')" in message  # the code itself, shown
    assert "--trust-baseline" in message and "Nothing was run" in message
    assert session.namespace["marker"] == [] and "total" not in session.namespace
    assert list(workbench.runs(store)["kind"]) == ["baseline"]  # nothing recorded
    session.close()


def test_trusting_it_re_runs_it_and_is_remembered_for_the_session(store: Path) -> None:
    session = session_for(store)
    options = session.options({})
    first = session.candidate("c", CAND, options, plan=Plan(budget_s=0.2), trust_baseline=True)
    assert first.result is not None and first.result.correctness == "equal"
    second = session.candidate("d", CAND, options, plan=Plan(budget_s=0.2))  # no flag now
    assert second.result is not None
    session.close()
    assert session_for(store).confirmed == set()  # a new session asks again


def test_a_confirm_answer_decides_and_sees_the_review(store: Path) -> None:
    seen: list[BaselineReview] = []

    def no(review: BaselineReview) -> bool:
        seen.append(review)
        return False

    session = session_for(store)
    with pytest.raises(ExperimentError, match="was not confirmed: nothing was run"):
        session.candidate("c", CAND, session.options({}), plan=Plan(budget_s=0.2), confirm=no)
    assert seen[0].code == BASE and session.namespace["marker"] == []
    outcome = session.candidate(
        "c", CAND, session.options({}), plan=Plan(budget_s=0.2), confirm=lambda review: True
    )
    assert outcome.result is not None
    session.close()


def test_changed_code_under_the_same_name_is_asked_about_again(store: Path) -> None:
    session = session_for(store)
    session.candidate("c", CAND, session.options({}), plan=Plan(budget_s=0.2), trust_baseline=True)
    with RunStore(store) as opened, opened.write() as writer:  # someone edits the file
        base = opened.baseline("b")
        writer.set_baseline("b", base.run_id, BASE + "\nimport os", [], None, {})
    with pytest.raises(ExperimentError, match="import os"):
        session.candidate("d", CAND, session.options({}), plan=Plan(budget_s=0.2))
    session.close()


def test_a_baseline_this_session_recorded_is_re_run_without_asking(isolated_cwd: Path) -> None:
    session = Session({"marker": []}, call_cost_s=1e-7)
    session.baseline("b", BASE, session.options({}))
    outcome = session.candidate("c", CAND, session.options({}), plan=Plan(budget_s=0.2))
    assert outcome.result is not None and session.confirmed == set()
    session.close()


# --- the magic ---------------------------------------------------------------------------------


def run(shell: InteractiveShell, source: str) -> tuple[BaseException | None, str]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    return result.error_in_exec, cap.stdout  # type: ignore[attr-defined]


def test_the_magic_headless_refuses_naming_the_flag_then_trusts_with_it(
    shell: InteractiveShell, store: Path
) -> None:
    shell.user_ns["marker"] = []
    cell = f"%%optimize -q --store {store} --candidate c --budget 0.2 -o e\n{CAND}\n"
    error, _ = run(shell, cell)
    assert type(error).__name__ == "UsageError" and "--trust-baseline" in str(error)
    assert "marker.append('baseline ran')" in str(error) and shell.user_ns["marker"] == []
    error, stdout = run(shell, cell.replace("-o e", "-o e --trust-baseline"))
    assert error is None and shell.user_ns["e"].correctness == "equal"
    assert "marker.append('baseline ran')" in stdout  # shown before it ran
    error, _ = run(shell, cell)  # remembered for this kernel session
    assert error is None


def test_flags_that_go_with_another_are_refused_alone(shell: InteractiveShell) -> None:
    error, _ = run(shell, "%%optimize --trust-baseline\nx = 1\n")
    assert "--trust-baseline goes only with --candidate" in str(error)
    error, _ = run(shell, "%%optimize --keep-outputs\nx = 1\n")
    assert "--keep-outputs goes only with --baseline" in str(error)


def test_keep_outputs_keeps_a_large_output_whole(shell: InteractiveShell) -> None:
    size = MAX_STORED_BYTES // 8 + 1000  # float64s: just past the 1 MiB limit
    shell.user_ns["np"] = np
    run(shell, f"%%optimize -q --baseline small\nnp.arange({size}, dtype=float)\n")
    run(shell, f"%%optimize -q --baseline whole --keep-outputs\nnp.arange({size}, dtype=float)\n")
    with RunStore() as opened:
        small, whole = opened.baseline("small"), opened.baseline("whole")
    assert small.outputs is not None and whole.outputs is not None
    assert isinstance(decode(small.outputs)["result"], Fingerprint)
    kept = decode(whole.outputs)["result"]
    assert isinstance(kept, np.ndarray) and kept.shape == (size,) and kept[-1] == size - 1


# --- a real kernel whose frontend answers input() ----------------------------------------------


@pytest.fixture
def kernel(store: Path) -> Iterator[Any]:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(store.parent))
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: Any, code: str, answer: str | None = None) -> tuple[dict[str, Any], str]:
    """Run `code`; answer an input() request with `answer`; the reply and the stdout."""
    msg_id = client.execute(code, allow_stdin=answer is not None)
    prompts, stdout = [], []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if answer is not None:
            try:
                request = client.get_stdin_msg(timeout=0.05)
                prompts.append(request["content"]["prompt"])
                client.input(answer)
            except queue.Empty:
                pass
        try:
            message = client.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            continue
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            stdout.append(message["content"]["text"])
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    return {**reply["content"], "prompts": prompts}, "".join(stdout)


def test_a_kernel_asks_where_its_frontend_can_answer(kernel: Any, store: Path) -> None:
    reply, _ = execute(kernel, "%load_ext workbench\nmarker = []\n")
    assert reply["status"] == "ok", reply
    cell = f"%%optimize -q --store {store} --candidate c --budget 0.2 -o e\n{CAND}\n"
    reply, _ = execute(kernel, cell)  # allow_stdin=False, as nbclient and papermill run
    assert reply["status"] == "error" and "--trust-baseline" in reply["evalue"]
    assert reply["prompts"] == []
    reply, stdout = execute(kernel, cell, answer="n")
    assert reply["status"] == "error" and reply["ename"] == "UsageError", reply
    assert "was not confirmed" in reply["evalue"]
    assert reply["prompts"] == ["Re-run this baseline's code? [y/N] "]
    assert "marker.append('baseline ran')" in stdout  # the code was shown
    reply, _ = execute(kernel, cell, answer="y")
    assert reply["status"] == "ok", reply
    reply, stdout = execute(kernel, "print(e.correctness, marker)")
    assert stdout.strip().startswith("equal ['baseline ran'")
    reply, _ = execute(kernel, cell)  # confirmed once: not asked again in this kernel
    assert reply["status"] == "ok" and reply["prompts"] == []
