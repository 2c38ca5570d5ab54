"""Profiling: run code under a profiler (or a sampler), categorize it, and build the Report.

`run.profile()` is the entry point; the passes (capture, sampling, lines, gpu_pass) each run
the code once and return what they measured; breakdown, overhead, debias and tree turn that
into tables, and `run.build_report()` makes the Report from it, once.
"""
