"""What a run produced, kept so a learner can export it and reproduce the curve."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from lab.training import DivergedEvent, DoneEvent, EvalEvent, Event, StepEvent


@dataclass
class RunHistory:
    label: str  # e.g. "α=0.005, cross_entropy"
    settings: dict  # every setting that shaped the run, seed included
    steps: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)  # parameter name → norm per step
    metrics: dict[str, float] = field(default_factory=dict)  # latest evaluation
    diverged: str | None = None  # the divergence message, if the run diverged
    finished: bool = False
    cancelled: bool = False

    def record(self, event: Event) -> None:
        """Fold one training event into the history."""
        if isinstance(event, StepEvent):
            self.steps.append(event.step)
            self.costs.append(event.cost)
            for name, norm in event.grad_norms.items():
                self.grad_norms.setdefault(name, []).append(norm)
        elif isinstance(event, EvalEvent):
            self.metrics = dict(event.metrics)
        elif isinstance(event, DivergedEvent):
            self.diverged = event.message
        elif isinstance(event, DoneEvent):
            self.finished, self.cancelled = True, event.cancelled

    def to_csv(self) -> str:
        """One row per step: step, cost, then the gradient norm of each parameter."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        names = list(self.grad_norms)
        writer.writerow(["step", "cost", *[f"grad_norm_{n}" for n in names]])
        for i, step in enumerate(self.steps):
            writer.writerow([step, repr(self.costs[i]), *[repr(self.grad_norms[n][i]) for n in names]])
        return out.getvalue()

    def to_json(self, link: str = "") -> str:
        """The settings (seed included) and outcome: enough to rerun and compare; `link`, if given, is the
        address that opens the lab with these settings."""
        return json.dumps({"label": self.label, "settings": self.settings, "steps": len(self.steps),
                           "final_cost": self.costs[-1] if self.costs else None, "metrics": self.metrics,
                           "diverged": self.diverged, "cancelled": self.cancelled,
                           **({"link": link} if link else {})}, indent=2)
