"""Optional report sections (native time, hottest lines, GPU) as row lists for every renderer."""

from __future__ import annotations

import linecache
from typing import TYPE_CHECKING

from workbench.report import format as fmt

if TYPE_CHECKING:
    from workbench.profiling.report import Report

Section = tuple[str, list[str], list[list[str]], set[int]]  # title, header, rows, right-aligned


def native_section(report: Report) -> Section | None:
    """C-level time per package: the call pattern or the body?"""
    if report.native.empty:
        return None
    rows = [
        [
            r["package"],
            fmt.fixed(r["native_s"]),
            fmt.fixed(r["python_s"]),
            fmt.count(r["native_calls"]),
            fmt.pct(r["native_pct"]),
            f"{r['native_us_per_call']:.2f}",
            r["advice"],
        ]
        for r in fmt.records(report.native)
    ]
    header = [
        "Package",
        "Native (s)",
        "Python (s)",
        "Native calls",
        "% of total",
        "us/call",
        "Reading",
    ]
    return ("Native (C) time by package", header, rows, {1, 2, 3, 4, 5})


def lines_section(report: Report, n: int = 12) -> Section | None:
    """The hottest lines of the line pass, with their source."""
    if report.lines is None or report.lines.lines.empty:
        return None
    rows = [
        [
            r["function"],
            fmt.where(r["file"], r["line"]),
            fmt.count(r["hits"]),
            fmt.fixed(r["time_s"], 4),
            fmt.pct(r["pct_of_function"]),
            r["source"].strip(),
        ]
        for r in fmt.records(report.lines.hottest(n))
    ]
    header = ["Function", "Line", "Hits", "Time (s)", "% of function", "Source"]
    return (
        f"Hottest lines (line_profiler pass over {', '.join(report.lines.functions)})",
        header,
        rows,
        {2, 3, 4},
    )


def gpu_sections(report: Report) -> tuple[str | None, list[Section]]:
    """The GPU status line and, when measured, per-device and per-call tables."""
    if report.gpu is None:
        return None, []
    sections: list[Section] = []
    if report.gpu.measured:
        rows = [
            [
                str(r["device"]),
                str(r["name"]),
                fmt.count(int(r["lines_timed"])),
                fmt.fixed(r["device_s"], 4),
                fmt.fixed(r["span_s"], 4),
                f"{fmt.count(int(r['h2d_bytes']))} in {fmt.count(int(r['h2d_calls']))}",
                fmt.fixed(r["h2d_s"], 4),
                f"{fmt.count(int(r['d2h_bytes']))} in {fmt.count(int(r['d2h_calls']))}",
                fmt.fixed(r["d2h_s"], 4),
            ]
            for r in fmt.records(report.gpu.devices)
        ]
        header = [
            "Device",
            "Name",
            "Lines timed",
            "Device time (s)",
            "Device span (s)",
            "H->D bytes in copies",
            "H->D (s)",
            "D->H bytes in copies",
            "D->H (s)",
        ]
        sections.append(("GPU time per device (CUDA events)", header, rows, {2, 3, 4, 5, 6, 7, 8}))
        lines = [
            [
                r["function"],
                fmt.where(r["file"], r["line"]),
                str(r["device"]),
                fmt.count(int(r["runs"])),
                fmt.fixed(r["device_s"], 4),
                fmt.fixed(r["host_s"], 4),
                linecache.getline(r["file"], r["line"]).strip(),
            ]
            for r in fmt.records(report.gpu.lines.head(10))
        ]
        sections.append(
            (
                "GPU time by source line",
                ["Function", "Line", "Device", "Runs", "Device (s)", "Host (s)", "Source"],
                lines,
                {3, 4, 5},
            )
        )
    return report.gpu.status, sections


def recommendations_section(report: Report, n: int = 15) -> Section | None:
    """The router's backend recommendation for each compute pattern of the cell."""
    table = report.recommendations
    if table is None or table.empty:
        return None
    rows = [
        [
            str(r["line"]),
            str(r["code"])[:70],
            str(r["pattern"]),
            str(r["complexity"]),
            "unknown" if r["size"] is None or r["size"] != r["size"] else fmt.count(int(r["size"])),
            str(r["residency"]),
            "" if r["runs"] is None or r["runs"] != r["runs"] else fmt.count(int(r["runs"])),
            str(r["backend"]),
            str(r["reason"]),
        ]
        for r in fmt.records(table.head(n))
    ]
    header = ["Line", "Code", "Pattern", "Complexity", "Size", "Data on", "Runs", "Backend", "Why"]
    return ("Backend recommendations (router)", header, rows, {0, 4, 6})
