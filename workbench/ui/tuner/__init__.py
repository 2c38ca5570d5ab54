"""The threshold tuner: `Tuner` (widget.py, its controls in controls.py) over `TunerState`
(state.py: thresholds, regret, saving), view.py (the figure's data and text) and words.py
(plain words for point states, threshold modes, the regret and what Save wrote)."""

from workbench.ui.tuner.widget import Tuner

__all__ = ["Tuner"]
