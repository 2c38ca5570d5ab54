"""Profiling: run code under a profiler (or a sampler), categorize it, and build the Report.

`run.profile()` is the entry point; the passes (capture, sampling, lines, gpu_pass) each run
the code once and return what they measured; cost_model says what cProfile costs on this
interpreter, correction takes it out of the shares, and breakdown, overhead, debias and
tree turn that into tables; `run.build_report()` makes the Report from it, once.
round_shares samples an experiment's rounds by category.
"""
