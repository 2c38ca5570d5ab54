"""The tuner widget: edit the router's thresholds over a calibration, see the regret live.

    from workbench.ui.tuner.widget import Tuner
    tuner = Tuner(cal)          # a Calibration, a Fit, a calibrated profile or its JSON path
    tuner                       # dropdowns, chart, sliders, regret, buttons
    tuner.tiers                 # the thresholds as edited, per (op, residency, device)
    tuner.profile().save("my.json")   # or the Save button; Router("my.json") uses them

Moving a slider only recomputes the chart's shapes, the chosen points and the regret from
the stored measurements; only "Run benchmark" measures again. The logic lives in
state.py (thresholds, regret, saving), view.py (figure data, text), words.py (what each
state and number means, in plain words) and controls.py (the widgets and their layout).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any

from workbench.calibration.fit import GroupKey, fit
from workbench.calibration.functions import FunctionSweep, calibrate_function
from workbench.calibration.result import Calibration
from workbench.calibration.sweep import calibrate_ops
from workbench.profiling.capture import describe_error
from workbench.route.experts import BoundGated, Gated
from workbench.route.machine_profile import MachineProfile, Tier
from workbench.ui.tuner import view, words
from workbench.ui.tuner.controls import STEP, Controls
from workbench.ui.tuner.state import (
    AT,
    Source,
    TunerError,
    TunerState,
    cupy_mode,
    python_mode,
    with_cupy,
    with_python,
)


class Tuner(Controls):
    """Threshold editor over a calibration: `Tuner(source)`, displayed in a notebook.

    `costs`: the profile whose cost parameters a saved profile carries (default: the
    source profile's, or the reference machine's). `calibrate_options`: keyword arguments
    for the "Run benchmark" button's calibrate() (default: the same ops and dtype).
    """

    def __init__(
        self,
        *sources: Source | Gated,
        costs: MachineProfile | None = None,
        budget_s: float = 30.0,
        path: str = "calibrated_profile.json",
        calibrate_options: Mapping[str, Any] | None = None,
    ) -> None:
        gates = [_as_gate(s) for s in sources if isinstance(s, (Gated, BoundGated))]
        others = [s for s in sources if not isinstance(s, (Gated, BoundGated))]
        if len(others) > 1:
            raise TunerError(
                "Tuner takes at most one calibration, fit or profile (and any number of "
                f"gated functions), got {len(others)}"
            )
        self.state = TunerState.from_source(others[0] if others else None, costs, gates)
        self.calibrate_options = dict(calibrate_options or {})
        self._syncing = False
        self._range = (1.0, 1e8)
        self._resting: dict[str, float] = {}  # slider name -> the value it was put at
        first = self.state.groups()[0]
        super().__init__(self.state.ops(), budget_s, path)
        self._wire()
        self._pick_group(first)

    # --- public API --------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The VBox to display (displaying the Tuner itself does the same)."""
        # plotly copies a FigureWidget's figure into the state a new view starts from only
        # when the figure itself is displayed; inside a box it is not, so copy it here.
        self.figure._repr_mimebundle_()
        return self._box

    @property
    def key(self) -> GroupKey:
        """The group shown: (op, residency, device), device -1 meaning CPU only."""
        return (self.op.value, self.residency.value, self.device.value)

    @property
    def tiers(self) -> dict[GroupKey, Tier]:
        """The thresholds as edited, per group (a copy)."""
        return dict(self.state.tiers)

    def profile(self, name: str = "tuned") -> MachineProfile:
        """A MachineProfile with the current thresholds and the measurements."""
        return self.state.profile(name)

    def save(self, path: str | None = None) -> Path:
        """Write the profile to `path` (default: the path box); returns the file written."""
        target = self.state.save(path or self.path.value)
        self.status.value = words.saved_html(target.resolve(), self.state)
        return target

    def use_fitted(self) -> None:
        """Every group to the thresholds fitted to the measurements."""
        self.state.use_fitted()
        self._show(self.key)
        self.status.value = "Every group set to its fitted thresholds."

    def use_seed(self) -> None:
        """Every group to the seed table's row for its op."""
        self.state.use_seed()
        self._show(self.key)
        self.status.value = (
            "Every op reset to the seed table (seed 002), every function to its reference "
            "expert at every size."
        )

    def run_benchmark(
        self, ops: Sequence[str] | None = None, *, budget_s: float | None = None, **options: Any
    ) -> Calibration | FunctionSweep:
        """Measure again and show the new curves: the gated function shown is swept again
        (workbench.calibrate with its last inputs and sizes), an op family is calibrated
        again and refitted. Thresholds edited by hand are kept; the progress bar follows
        the sweep; on error the old data stays."""
        budget = float(budget_s if budget_s is not None else self.budget.value)
        group = self.state.functions.get(self.key)
        if group is not None and ops is None:
            return self._sweep_function(group.gate, budget)
        if self.state.fit is None:
            raise TunerError(
                "no op calibration to run again: this tuner shows gated functions only"
            )
        kwargs: dict[str, Any] = {
            "ops": [op for op in self.state.ops() if not self._is_function_name(op)],
            "dtype": self.state.fit.calibration.key.dtype,
            **self.calibrate_options,
            **options,
        }
        if ops is not None:
            kwargs["ops"] = list(ops)
        self._busy(True)
        try:
            cal = calibrate_ops(budget_s=budget, progress=self._on_progress, **kwargs)
            new = fit(cal)
        finally:
            self._busy(False)
        if not new.curves:
            raise TunerError(
                f"the new sweep timed nothing ({cal.summary()}): the old measurements are "
                "kept; run again with a larger budget"
            )
        self.state.replace_fit(new)
        self._refresh_options()
        found = words.counts(p.status for p in cal.points)
        self.status.value = f"Measured: {words.points_html(found, cal.elapsed_s)}"
        return cal

    def _is_function_name(self, name: str) -> bool:
        return any(k[0] == name for k in self.state.functions)

    def _sweep_function(self, gate: Gated, budget: float) -> FunctionSweep:
        """Run benchmark on a gated function: sweep it again with the inputs and sizes of
        its last workbench.calibrate(f, ...)."""
        if gate.inputs is None or not gate.sizes:
            raise TunerError(
                f"Run benchmark sweeps {gate.qualname} with the inputs of its last "
                "workbench.calibrate(f, inputs=lambda n: ..., sizes=[...]): run that once first"
            )
        self._busy(True)
        try:
            sweep = calibrate_function(
                gate,
                inputs=gate.inputs,
                sizes=gate.sizes,
                budget_s=budget,
                progress=self._on_progress,
            )
        finally:
            self._busy(False)
        self.state.add_function(gate)
        self._refresh_options()
        found = words.counts(p.status for p in sweep.points)
        self.status.value = (
            f"Measured: {html.escape(sweep.function)}: {words.points_html(found, sweep.elapsed_s)}"
        )
        return sweep

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # --- callbacks ---------------------------------------------------------------------

    def _wire(self) -> None:
        for dropdown in (self.op, self.residency, self.device):
            dropdown.observe(self._on_group, names="value")
        self.python_slider.observe(self._on_python_slider, names="value")
        self.cupy_slider.observe(self._on_cupy_slider, names="value")
        self.python_mode.observe(self._on_python_mode, names="value")
        self.cupy_mode.observe(self._on_cupy_mode, names="value")
        self.run_button.on_click(self._on_run)
        self.fit_button.on_click(lambda _: self.use_fitted())
        self.reset_button.on_click(lambda _: self.use_seed())
        self.save_button.on_click(self._on_save)

    def _on_group(self, _: Mapping[str, Any]) -> None:
        if not self._syncing:  # the closest measured combination to the dropdowns' values
            self._pick_group(self.key)

    def _on_python_slider(self, change: Mapping[str, Any]) -> None:
        if self._moved("python", float(change["new"])):
            self._edit(with_python(self.state.tiers[self.key], AT, float(change["new"])))

    def _on_cupy_slider(self, change: Mapping[str, Any]) -> None:
        if self._moved("cupy", float(change["new"])):
            self._edit(with_cupy(self.state.tiers[self.key], AT, float(change["new"])))

    def _moved(self, name: str, value: float) -> bool:
        """Whether a slider change is the user's: not ours, not the browser's echo."""
        if self._syncing or value <= 0:
            return False
        resting = self._resting.get(name)
        self._resting[name] = value
        return resting is None or abs(math.log10(value / resting)) >= STEP / 4

    def _on_python_mode(self, change: Mapping[str, Any]) -> None:
        if not self._syncing:  # back to a size: the one it had last, else where it rests
            last = self.state.last_size(self.key, "python")
            size = last if last is not None else float(self.python_slider.value)
            self._edit(with_python(self.state.tiers[self.key], change["new"], size))

    def _on_cupy_mode(self, change: Mapping[str, Any]) -> None:
        if not self._syncing:
            last = self.state.last_size(self.key, "cupy")
            size = last if last is not None else float(self.cupy_slider.value)
            self._edit(with_cupy(self.state.tiers[self.key], change["new"], size))

    def _on_run(self, _: Any) -> None:
        try:
            self.run_benchmark()
        except Exception as exc:  # shown in the widget, where a callback's error is seen
            self.status.value = (
                "<b>Run benchmark failed</b>, the previous measurements are kept: "
                f"{html.escape(describe_error(exc) or '')}"
            )

    def _on_save(self, _: Any) -> None:
        try:
            self.save()
        except (TunerError, OSError) as exc:
            self.status.value = f"<b>Not saved</b>: {html.escape(describe_error(exc) or '')}"

    def _on_progress(self, done: int, total: int, label: str) -> None:
        self.progress.max = max(1, total)
        self.progress.value = min(done, self.progress.max)
        self.status.value = f"Measuring {html.escape(label)} ({done} of {total})"

    # --- drawing -----------------------------------------------------------------------

    def _busy(self, busy: bool) -> None:
        for button in (self.run_button, self.fit_button, self.reset_button, self.save_button):
            button.disabled = busy
        if busy:
            self.progress.value = 0

    def _edit(self, tier: Tier) -> None:
        """A hand edit of the shown group: store it, then redraw shapes and regret."""
        self.state.set_tier(self.key, tier)
        self._syncing = True
        try:  # a slider stays where it is (or returns to its last size); the rest follows
            for name in ("python", "cupy"):
                self._sync_mode(self.key, name)
        finally:
            self._syncing = False
        self._draw_tier(self.key)

    def _refresh_options(self) -> None:
        groups = self.state.groups()
        want = self.key if self.key in groups else groups[0]
        self._pick_group(want)

    def _pick_group(self, want: GroupKey) -> None:
        """Fill the dropdowns with the combinations measured, closest to `want`; show it."""
        state = self.state
        op = want[0] if want[0] in state.ops() else state.ops()[0]
        residencies = state.residencies(op)
        residency = want[1] if want[1] in residencies else residencies[0]
        devices = state.devices(op, residency)
        device = want[2] if want[2] in devices else devices[0]
        names = state.gpu_names()
        self._syncing = True
        try:
            self.op.options = state.ops()
            self.op.value = op
            labels = (
                view.FUNCTION_RESIDENCY
                if (op, residencies[0], devices[0]) in state.functions
                else view.RESIDENCY_LABELS
            )
            self.residency.options = [(labels[r], r) for r in residencies]
            self.residency.value = residency
            self.device.options = [(view.device_label(d, names), d) for d in devices]
            self.device.value = device
        finally:
            self._syncing = False
        self._show((op, residency, device))

    def _show(self, key: GroupKey) -> None:
        """Redraw everything for one group: ranges, controls, traces, shapes, regret."""
        c = self.state.curves[key]
        has_gpu = self.state.has_gpu(key)
        tiers = [self.state.tiers[key], self.state.fitted(key), self.state.seed(key)]
        self._range = view.x_range(c, tiers)
        self._sync_controls(key)
        self.info.value = self._info(key)
        with self.figure.batch_update():
            for trace, update in zip(
                self.figure.data, view.trace_updates(c, tiers[0], has_gpu), strict=True
            ):
                trace.update(update)
            self.figure.layout.xaxis.range = view.axis_range(*self._range)
            self.figure.layout.title.text = view.chart_title(
                key, self.state.gpu_names(), function=self.state.is_function(key)
            )
            self.figure.layout.shapes = view.shapes(tiers[0], *self._range, has_gpu)
        self._keep_model_state()
        self._draw_regret(key)

    def _title(self, key: GroupKey) -> str:
        return view.group_title(key, self.state.gpu_names(), function=self.state.is_function(key))

    def _keep_model_state(self) -> None:
        """The figure's widget state made what is drawn now. plotly sends each edit to the
        views open now but keeps the state a view starts from (a reloaded page, a notebook
        opened again on the running kernel) as it was when the figure was displayed: without
        this, such a view shows the group of that moment, with its shading."""
        self.figure._widget_layout = deepcopy(self.figure._layout_obj._props)
        self.figure._widget_data = deepcopy(self.figure._data)

    def _info(self, key: GroupKey) -> str:
        group = self.state.functions.get(key)
        if group is not None:
            learner = group.gate.learners()[group.device]
            experts = ", ".join(words.expert_words(learner.experts[n]) for n in learner.order)
            return (
                f"Your function <code>{html.escape(group.gate.qualname)}</code>: experts "
                f"{html.escape(experts)}; timings from its live calls and workbench.calibrate "
                f"sweeps, {len(group.curves.sizes)} size buckets, on "
                f"{html.escape(view.device_label(group.device, self.state.gpu_names()))}"
            )
        assert self.state.fit is not None
        cal = self.state.fit.calibration
        found = words.counts(p.status for p in cal.points)
        return (
            f"Measured on {html.escape(cal.key.cpu)}; GPU: {html.escape(cal.key.gpu or 'none')}; "
            f"{html.escape(cal.date)}; {words.points_html(found, cal.elapsed_s)}"
        )

    def _draw_tier(self, key: GroupKey) -> None:
        """After a threshold moved: only the shapes, the chosen points and the regret."""
        c, tier, has_gpu = self.state.curves[key], self.state.tiers[key], self.state.has_gpu(key)
        with self.figure.batch_update():
            self.figure.data[-1].update(view.chosen_update(c, tier, has_gpu))
            self.figure.layout.shapes = view.shapes(tier, *self._range, has_gpu)
        self._keep_model_state()
        self._draw_regret(key)

    def _draw_regret(self, key: GroupKey) -> None:
        state = self.state
        self.regret.value = view.regret_html(
            self._title(key),
            view.tier_text(state.tiers[key], state.has_gpu(key)),
            state.group_regret(key),
            state.group_regret(key, state.fitted(key)),
            state.group_regret(key, state.seed(key)),
            state.table_regret(),
            len(state.groups()),
            baseline=state.baseline_name(key),
            oracle="expert" if state.is_function(key) else "backend",
            table_baseline="seed table / reference only" if state.functions else "seed table",
        )

    def _sync_controls(self, key: GroupKey) -> None:
        """Sliders (range and value, on their grid) and mode boxes to the group's
        thresholds, without firing edits."""
        tier = self.state.tiers[key]
        self.state.remember(key, tier)
        lo = math.floor(math.log10(self._range[0]) / STEP) * STEP
        hi = math.ceil(math.log10(self._range[1]) / STEP) * STEP
        has_gpu = self.state.has_gpu(key)
        self._syncing = True
        try:
            for name, slider, (_, value), attr in (
                ("python", self.python_slider, python_mode(tier), "simd_above"),
                ("cupy", self.cupy_slider, cupy_mode(tier), "gpu_above"),
            ):
                # never/always: the slider rests at the size it had last, to come back to
                if value is None:
                    value = self.state.last_size(key, name) or self._default(key, attr)
                exponent = math.log10(value)
                on_grid = round(min(max(exponent, lo), hi) / STEP) * STEP
                with slider.hold_sync():
                    _set_range(slider, lo, hi)
                    slider.value = 10**on_grid
                self._resting[name] = slider.value
                self._sync_mode(key, name)
            self.cupy_row.layout.display = None if has_gpu else "none"
        finally:
            self._syncing = False

    def _sync_mode(self, key: GroupKey, name: str) -> None:
        """A threshold's mode box, its slider (off unless set at a size, no number shown
        then) and its state in words, from the group's thresholds."""
        tier = self.state.tiers[key]
        python = name == "python"
        mode, size = python_mode(tier) if python else cupy_mode(tier)
        slider, box, text = (
            (self.python_slider, self.python_mode, self.python_state)
            if python
            else (self.cupy_slider, self.cupy_mode, self.cupy_state)
        )
        usable = python or self.state.has_gpu(key)
        box.value = mode
        box.disabled = not usable
        slider.disabled = mode != AT or not usable
        slider.readout = mode == AT
        state = words.python_state if python else words.cupy_state
        text.value = html.escape(state(mode, size if size is not None else 0.0))

    def _default(self, key: GroupKey, attr: str) -> float:
        """Where a slider rests while its threshold is never/always: the fitted or seed
        size if either has one, else the middle of the range."""
        for tier in (self.state.fitted(key), self.state.seed(key)):
            value = getattr(tier, attr)
            if value is not None and value > 0:
                return float(value)
        return math.sqrt(self._range[0] * self._range[1])


def _as_gate(source: Gated | BoundGated) -> Gated:
    return source.gate if isinstance(source, BoundGated) else source


def _set_range(slider: Any, lo: float, hi: float) -> None:
    """Move a slider's exponent range to [lo, hi] without ever having max < min."""
    slider.min = min(slider.min, lo)
    slider.max = hi
    slider.min = lo
