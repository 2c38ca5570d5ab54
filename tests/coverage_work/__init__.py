"""Workloads of the coverage tests, importable in child processes and Dask workers."""
