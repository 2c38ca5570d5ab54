"""Profiling: run code under a profiler (or a sampler), categorize it, and build the Report.

`run.profile()` is the entry point; the passes (capture, sampling, lines, gpu_pass) each run
the code once; breakdown, overhead, debias and tree turn what they measured into tables.
"""
