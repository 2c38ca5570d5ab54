"""`workbench profile SCRIPT.py` runs the script as `__main__`, as `python SCRIPT.py` does:
its `if __name__ == "__main__":` block can start a multiprocessing Pool (fork and spawn) and
pickle its own classes; sys.argv, sys.path[0] and sys.modules["__main__"] are the script's
while it runs and are put back afterwards."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.profiling.script import as_main

SCRIPT = textwrap.dedent(
    """
    import multiprocessing
    import pickle
    import sys

    import __main__


    class Thing:
        def __init__(self, n):
            self.n = n


    def work(x):
        return x * x


    if __name__ == "__main__":
        assert __main__.work is work and __main__.__file__ == __file__
        print("path0", sys.path[0])
        print("argv", sys.argv)
        print("pickled", pickle.loads(pickle.dumps(Thing(3))).n)
        with multiprocessing.get_context(sys.argv[1]).Pool(2) as pool:
            print("squares", sum(pool.map(work, range(10))))
    """
)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_script_with_a_pool_and_pickled_classes_runs_as_main(
    isolated_cwd: Path, capsys: pytest.CaptureFixture[str], start: str
) -> None:
    folder = isolated_cwd / "scripts"
    folder.mkdir()
    script = folder / "pool_job.py"
    script.write_text(SCRIPT)
    main_before, argv_before, path_before = sys.modules["__main__"], sys.argv[:], sys.path[:]
    code = main(["profile", "--out", str(isolated_cwd / "out"), str(script), start, "x"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"path0 {folder}" in out.out
    assert f"argv ['{script}', '{start}', 'x']" in out.out
    assert "pickled 3" in out.out and "squares 285" in out.out
    assert sys.modules["__main__"] is main_before
    assert (sys.argv, sys.path) == (argv_before, path_before)
    assert (isolated_cwd / "out" / "profile.prof").is_file()


def test_as_main_restores_the_interpreter_when_the_script_fails(isolated_cwd: Path) -> None:
    main_before, argv_before, path_before = sys.modules["__main__"], sys.argv[:], sys.path[:]
    script = isolated_cwd / "boom.py"
    with pytest.raises(ValueError, match="mine"), as_main(script, ["a"]) as namespace:
        assert namespace["__name__"] == "__main__" and sys.modules["__main__"].__dict__ is namespace
        assert namespace["__file__"] == str(script) and sys.argv == [str(script), "a"]
        raise ValueError("mine")
    assert sys.modules["__main__"] is main_before
    assert (sys.argv, sys.path) == (argv_before, path_before)
