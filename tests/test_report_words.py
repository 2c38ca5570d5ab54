"""The words under the tables: a count of categories in the right number, and the share a
filter compared named as the one it compared."""

from __future__ import annotations

import pandas as pd

import workbench
from workbench.report import sections

TOP_COLUMNS = ["category", "rank", "name", "file", "line", "ncalls", "tottime", "cumtime", "pct"]
WIN_COLUMNS = ["category", "self_s", "pct", "cut_25", "cut_50", "cut_75", "cut_100"]


def _top() -> pd.DataFrame:
    return pd.DataFrame([("user:a", 1, "f", "a.py", 1, 3, 0.9, 0.9, 90.0)], columns=TOP_COLUMNS)


def _wins(shares: dict[str, float]) -> pd.DataFrame:
    rows = [(name, pct / 100, pct, 1.1, 1.2, 1.3, 1.4) for name, pct in shares.items()]
    return pd.DataFrame(rows, columns=WIN_COLUMNS)


def test_one_hidden_category_is_singular_and_names_the_share_compared() -> None:
    one = sections.top_functions(_top(), title="t", hidden=1, hidden_under="the corrected time")
    assert one.notes == (
        "1 category under 1% of the corrected time is left out here; its functions are in "
        "report.top.",
    )
    three = sections.top_functions(_top(), title="t", hidden=3)
    assert three.notes == (
        "3 categories under 1% of self time are left out here; their functions are in report.top.",
    )


def test_the_wins_filter_says_it_compares_the_corrected_share() -> None:
    table = sections.wins(_wins({"a": 99.0, "b": 0.2}), min_pct=0.5, intro=False)
    assert [row[0] for row in table.rows] == ["a"]
    assert table.notes == ("1 category under 0.5% of the corrected time is left out.",)
    two = sections.wins(_wins({"a": 99.0, "b": 0.2, "c": 0.1}), min_pct=0.5, intro=False)
    assert two.notes == ("2 categories under 0.5% of the corrected time are left out.",)
    intro = sections.wins(_wins({"a": 99.0, "b": 0.2}), min_pct=1.0)
    assert intro.intro.endswith("Categories under 1% of the corrected time are left out.")


SOURCE = """\
import textwrap

def busy(n):
    total = 0
    for i in range(n):
        total += (i * 7) % 5
    return total

textwrap.dedent("  x")
busy(200_000)
"""


def test_a_real_report_names_what_its_top_filter_compared() -> None:
    report = workbench.profile(SOURCE, {})
    _, hidden = report.top_shown()
    words = report.top_filter_words()
    assert words == "both the measured self time and the corrected time"
    top = next(
        block
        for block in report.document.blocks
        if getattr(block, "title", "").startswith("Top ") and hasattr(block, "notes")
    )
    if hidden == 0:
        assert top.notes == ()
    else:
        noun = "category" if hidden == 1 else "categories"
        assert top.notes[0].startswith(f"{hidden} {noun} under 1% of {words} ")
        assert "1 categories" not in top.notes[0]
