"""The threshold tuner: `Tuner` (widget.py) over `TunerState` (state.py: thresholds, regret,
saving) and view.py (the figure's data and text)."""

from workbench.ui.tuner.widget import Tuner

__all__ = ["Tuner"]
