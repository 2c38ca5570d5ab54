"""Experiments: a candidate measured against a baseline in interleaved rounds (measure.py),
the speedup interval (speedup.py), the correctness check (outputs.py), run comparisons
(compare.py), findings, and the workflow's phases."""
