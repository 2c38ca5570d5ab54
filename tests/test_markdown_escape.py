"""Issue 16 item 10: markdown injection. A cell holding a ``` line cannot close the
postmortem's code block; labels (-l), titles (--title), function names and error messages
are shown as they are in report.md, the text/markdown bundle and the postmortem; the HTML
stays escaped. Judged by an independent CommonMark parser (markdown-it-py, GFM tables on)
rendering the markdown to HTML: nothing the user typed becomes a tag, a heading or a link."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from markdown_it import MarkdownIt

import workbench
from workbench.report.markdown import code_span, fence, inline, text

EVIL = "<img src=x onerror=alert(1)> **bold** [link](http://e.x) `tick` # not"
PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def rendered(markdown: str) -> str:
    return PARSER.render(markdown)


def assert_inert(html: str) -> None:
    """Nothing of EVIL became markup: no tag, no emphasis, no link, no code span."""
    assert "<img" not in html and "<strong>bold" not in html and "<a href" not in html
    assert "<code>tick</code>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; **bold** [link](http://e.x) `tick` # not" in html


CELL_WITH_FENCE = '''text = """
```
# Injected heading
<img src=x onerror=alert(1)>
"""
ok = len(text) > 0
'''


def test_a_cell_with_a_fence_line_stays_inside_the_postmortems_code_block(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    with capture_output():
        shell.run_cell("%%optimize -q --baseline b\nok = True\nok\n")
        shell.run_cell(f"%%optimize -q --candidate c --budget 0.2\n{CELL_WITH_FENCE}ok\n")
        shell.run_cell("%optimize -q --resolve Validate --note 'kept either way'")
        result = shell.run_cell("%optimize --postmortem pm.md")
    assert result.error_in_exec is None
    markdown = (isolated_cwd / "pm.md").read_text()
    tokens = PARSER.parse(markdown)
    blocks = [t.content for t in tokens if t.type == "fence" and t.info == "python"]
    assert blocks == [CELL_WITH_FENCE + "ok\n"]  # the whole cell, as one block
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert "Injected heading" not in headings
    assert not any(t.type == "html_block" for t in tokens)
    assert "<img" not in rendered(markdown)


def test_labels_in_report_md_and_the_markdown_bundle_are_shown_as_typed(
    isolated_cwd: Path,
) -> None:
    report = workbench.profile("x = 1", label=EVIL, call_cost_s=1e-7)
    report.save("out")
    for markdown in ((isolated_cwd / "out" / "report.md").read_text(), report.to_markdown()):
        assert_inert(rendered(markdown))
    html = report.to_html(chart="none")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_labels_from_the_magic_line_are_escaped_in_the_bundle(shell: InteractiveShell) -> None:
    with capture_output() as cap:
        shell.run_cell(f"%%optimize --no-store -l '{EVIL}'\nx = 1\n")
    (first, *_) = [out.data for out in cap.outputs]
    assert_inert(rendered(first["text/markdown"]))
    assert "<img" not in first["text/html"]


def test_function_names_and_errors_are_shown_as_they_are(isolated_cwd: Path) -> None:
    def work() -> int:
        return sum(range(100))

    work.__code__ = work.__code__.replace(co_name=EVIL, co_qualname=EVIL)

    def cell() -> None:
        work()
        raise ValueError(EVIL)

    report = workbench.profile(cell, on_error="return", call_cost_s=1e-7)
    assert EVIL in set(report.functions["name"])
    markdown = report.to_markdown()
    html = rendered(markdown)
    assert "<img" not in html and "<strong>bold" not in html and "<a href" not in html


def test_the_postmortem_title_is_shown_as_typed(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    with capture_output():
        shell.run_cell("%%optimize -q\nx = 1\n")
        result = shell.run_cell(f"%optimize --postmortem pm.md --title '{EVIL}'")
    assert result.error_in_exec is None
    markdown = (isolated_cwd / "pm.md").read_text()
    first = PARSER.parse(markdown)
    assert first[0].type == "heading_open" and first[0].tag == "h1"
    assert first[1].children is not None and [c.type for c in first[1].children] == ["text"]
    assert first[1].children[0].content == EVIL


# --- the escapers themselves, against the parser, on random text --------------------------------

printable = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from(list("`*_[]<>&#!|~\\-+=.)0123456789 ")),
    max_size=40,
)


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(value=printable)
def test_text_renders_as_one_paragraph_of_exactly_the_text(value: str) -> None:
    expected = " ".join(value.split())
    if not expected:
        return
    tokens = PARSER.parse(text(value))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = tokens[1].children or []
    assert all(c.type in ("text", "softbreak") for c in children), children
    assert "".join(c.content for c in children) == expected


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(value=printable)
def test_a_code_span_holds_exactly_the_text(value: str) -> None:
    line = " ".join(value.splitlines())
    if not line.strip():
        return
    tokens = PARSER.parse("x " + code_span(value))
    children = tokens[1].children or []
    spans = [c.content for c in children if c.type == "code_inline"]
    assert spans == [line]


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(lines=st.lists(printable, max_size=5))
def test_a_fence_holds_exactly_its_body(lines: list[str]) -> None:
    body = "\n".join(lines)
    tokens = PARSER.parse(fence(body, "python"))
    assert [t.type for t in tokens] == ["fence"]
    assert tokens[0].content == body.rstrip("\n") + "\n"


@pytest.mark.parametrize("value", ["a | b", "|x|", "c\\|d"])
def test_a_pipe_stays_inside_its_table_cell(value: str) -> None:
    html = rendered(
        f"| h | k |\n| --- | --- |\n| {inline(value)} | {code_span(value).replace('|', chr(92) + '|')} |\n"
    )
    assert html.count("<td>") == 2
    assert f"<td>{value.replace('&', '&amp;')}</td>" in html
