"""The tuner's controls and their layout, without behaviour (widget.py wires them).

Every control says what it does in its label and tooltip; each threshold slider has its
mode box beside it and its state in words (`wb-threshold-state`); the CSS classes
(`wb-threshold`, `wb-regret`, `wb-status`, `wb-info`) are what the browser test finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]
import plotly.graph_objects as go

from workbench.ui.tuner import view, words
from workbench.ui.tuner.state import ALWAYS, AT, NEVER

_PYTHON_MODES = [("never", NEVER), ("up to the slider", AT), ("at every size", ALWAYS)]
_CUPY_MODES = [("never", NEVER), ("above the slider", AT), ("at every size", ALWAYS)]
_WIDE = {"description_width": "initial"}
# Slider steps, in powers of ten. The browser snaps a slider to its grid and sends the
# snapped value back when it draws it, so values are put on the grid here, and a change
# within a quarter step of where the slider was put is that echo, not a move.
STEP = 0.02


class Controls:
    """The widgets of a tuner over the groups of `ops` (the first one shown)."""

    def __init__(self, ops: Sequence[str], budget_s: float, path: str) -> None:
        self.op = widgets.Dropdown(
            description="tune",
            options=ops,
            value=ops[0],
            tooltip="the gated function or router op family whose thresholds you edit",
            layout=widgets.Layout(width="440px"),
        )
        self.residency = widgets.Dropdown(
            description="inputs in",
            tooltip="where the call's data lives: Python lists, NumPy arrays (host memory) "
            "or CuPy arrays (GPU memory)",
        )
        self.device = widgets.Dropdown(
            description="runs on",
            tooltip="CPU only: no GPU takes part; GPU n (name): CuPy runs on that GPU",
        )
        self.python_slider = _slider("pure Python up to")
        self.cupy_slider = _slider("CuPy above")
        self.python_mode = widgets.Dropdown(
            options=_PYTHON_MODES,
            value=AT,
            layout=_narrow(),
            tooltip="when pure Python runs: never, for calls up to the slider's size, or always",
        )
        self.cupy_mode = widgets.Dropdown(
            options=_CUPY_MODES,
            value=NEVER,
            layout=_narrow(),
            tooltip="when CuPy runs: never, for calls above the slider's size, or always",
        )
        self.python_state = _state_text()
        self.cupy_state = _state_text()
        self.cupy_row = widgets.HBox([self.cupy_slider, self.cupy_mode, self.cupy_state])
        self.regret = widgets.HTML()
        self.regret.add_class("wb-regret")
        self.regret_help = widgets.HTML(words.REGRET_HELP)
        self.figure = go.FigureWidget(data=view.base_traces(), layout=view.figure_layout())
        self.budget = widgets.BoundedFloatText(
            value=budget_s,
            min=1,
            max=3600,
            step=5,
            description="budget (s)",
            style=_WIDE,
            tooltip="how long Run benchmark may measure, in seconds",
        )
        self.run_button = widgets.Button(
            description="Run benchmark",
            icon="play",
            tooltip="measure again within the budget: the function shown is swept again, an "
            "op family recalibrates the router's ops; thresholds you edited are kept",
        )
        self.fit_button = widgets.Button(
            description="Use fitted",
            tooltip="set every group to the thresholds fitted to the measurements",
        )
        self.reset_button = widgets.Button(
            description="Reset to seed table",
            tooltip="set every op to the built-in seed table's thresholds and every function "
            "to its reference expert at every size",
        )
        self.save_button = widgets.Button(
            description="Save profile",
            icon="save",
            tooltip="write these thresholds and the measurements to the file named on the left",
        )
        self.path = widgets.Text(
            value=path,
            description="save to",
            style=_WIDE,
            layout=widgets.Layout(width="520px"),
            tooltip="the machine profile file (.json) Save profile writes",
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="measured")
        self.status = widgets.HTML()
        self.status.add_class("wb-status")
        self.info = widgets.HTML()
        self.info.add_class("wb-info")
        self._box = widgets.VBox(
            [
                self.info,
                widgets.HBox([self.op, self.residency, self.device]),
                self.figure,
                widgets.HBox([self.python_slider, self.python_mode, self.python_state]),
                self.cupy_row,
                self.regret,
                self.regret_help,
                widgets.HBox([self.budget, self.run_button, self.progress]),
                widgets.HBox([self.fit_button, self.reset_button]),
                widgets.HBox([self.path, self.save_button]),
                self.status,
            ]
        )


def _slider(description: str) -> Any:
    slider = widgets.FloatLogSlider(
        value=1000,
        base=10,
        min=0,
        max=8,
        step=STEP,
        description=description,
        readout_format=",.0f",
        continuous_update=True,
        style=_WIDE,
        layout=widgets.Layout(width="460px"),
    )
    slider.add_class("wb-threshold")
    return slider


def _narrow() -> Any:
    return widgets.Layout(width="170px")


def _state_text() -> Any:
    text = widgets.HTML(layout=widgets.Layout(width="360px"))
    text.add_class("wb-threshold-state")
    return text
