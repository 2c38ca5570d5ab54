"""Experiments: the core session that runs profiles, baselines and candidates
(session.py), a candidate measured against a baseline in interleaved rounds (candidate.py,
measure.py), the speedup interval (speedup.py), the finished result (result.py), the
correctness check (outputs.py), run comparisons (compare.py), findings, and the workflow's
phases (workflow.py)."""
