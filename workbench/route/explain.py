"""Explanation: why the router picks a backend, with every number it used and its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.route.cost import Prediction, RuleVerdict, Workload, fmt_seconds
from workbench.route.kinds import Backend

if TYPE_CHECKING:
    import pandas as pd

EXPLAIN_COLUMNS = [
    "backend",
    "available",
    "excluded_because",
    "move_in_s",
    "compute_s",
    "move_out_s",
    "predicted_s",
    "seed_table",
    "pcie_5x",
    "end_to_end",
    "chosen",
]


@dataclass(frozen=True)
class Explanation:
    """One routing decision, explained.

    `predictions` holds the end-to-end model's seconds per backend (None where the profile
    cannot say), `excluded` why a backend cannot run this call, `seed`, `pcie` and
    `end_to_end` what each policy picks and why, `chosen` what the router's policy picks
    after exclusions, and `sources` where each number came from.
    """

    op: str
    complexity: str
    workload: Workload | None
    size: float
    residency: str
    placement: str
    policy: str
    chosen: Backend
    reason: str
    seed: tuple[Backend, str]
    pcie: tuple[Backend, RuleVerdict] | None
    end_to_end: tuple[Backend, str] | None
    predictions: dict[Backend, Prediction | None]
    excluded: dict[Backend, str]
    sources: dict[str, str]
    gpu: str
    disagreements: list[str] = field(default_factory=list)
    shapes: str = ""

    @property
    def measured(self) -> bool:
        """True when every cost number used was measured on this machine."""
        return all(text.startswith("measured on this machine") for text in self.sources.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per backend: availability, predicted seconds, and each policy's pick."""
        rows = []
        for backend in Backend:
            pred = self.predictions.get(backend)
            rows.append(
                (
                    backend.value,
                    backend not in self.excluded,
                    self.excluded.get(backend, ""),
                    pred.move_in_s if pred else None,
                    pred.compute_s if pred else None,
                    pred.move_out_s if pred else None,
                    pred.total_s if pred else None,
                    self.seed[0] is backend,
                    self.pcie is not None and self.pcie[0] is backend,
                    self.end_to_end is not None and self.end_to_end[0] is backend,
                    self.chosen is backend,
                )
            )
        import pandas as pd

        return pd.DataFrame.from_records(rows, columns=EXPLAIN_COLUMNS)

    def lines(self) -> list[str]:
        """The explanation as lines of plain text."""
        out = [
            f"{self.op} ({self.complexity} complexity){self.shapes}: {self.size:,.0f} elements, "
            f"data on {self.residency}, result wanted on {self.placement}",
            f"chosen: {self.chosen.label} ({self.chosen.seed_name}) by the {self.policy} policy: {self.reason}",
            f"  seed table: {self.seed[0].seed_name} - {self.seed[1]}",
        ]
        if self.pcie is not None:
            backend, verdict = self.pcie
            out.append(f"  5x rule: {backend.seed_name} - {verdict.reason}")
        if self.end_to_end is not None:
            out.append(f"  end-to-end: {self.end_to_end[0].label} - {self.end_to_end[1]}")
        out.append("  predicted end-to-end (in + kernel + out):")
        for backend in Backend:
            pred = self.predictions.get(backend)
            note = f"  [excluded: {self.excluded[backend]}]" if backend in self.excluded else ""
            if pred is None:
                out.append(f"    {backend.label:12s} -{note}")
            else:
                out.append(
                    f"    {backend.label:12s} {fmt_seconds(pred.total_s):>10s} = "
                    f"{fmt_seconds(pred.move_in_s)} in + {fmt_seconds(pred.compute_s)} kernel + "
                    f"{fmt_seconds(pred.move_out_s)} out{note}"
                )
        out.extend(f"  disagreement: {text}" for text in self.disagreements)
        out.append(f"  GPU: {self.gpu}")
        out.append("  numbers from:")
        out.extend(f"    {group}: {source}" for group, source in self.sources.items())
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]

    def to_markdown(self) -> str:
        """The explanation as markdown: the text, then the per-backend table."""
        frame = self.to_frame()
        for column in ("move_in_s", "compute_s", "move_out_s", "predicted_s"):
            frame[column] = [
                fmt_seconds(v) if v == v and v is not None else "-" for v in frame[column]
            ]
        header = "| " + " | ".join(frame.columns) + " |"
        rule = "|" + "---|" * len(frame.columns)
        body = [
            "| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)
        ]
        text = "\n".join("    " + line for line in self.lines())
        return text + "\n\n" + "\n".join([header, rule, *body])
