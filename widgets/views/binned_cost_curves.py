"""Cost curves for mini-batch training: each run's step costs averaged over short stretches of an epoch.

A run with batch size 1 takes a thousand steps per epoch; sending every point to the browser ten times a second
would cost more than the training. Averaging over 1/`points_per_epoch` of an epoch keeps the curves light and
shows the trend (lab 07 draws every step where the noise itself is the lesson).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from widgets.views.cost_curves import CostCurves


def bin_means(x: Sequence[float], y: Sequence[float], per_unit: int) -> tuple[list[float], list[float]]:
    """Mean of y over each stretch of 1/per_unit of x (x ascending, e.g. epochs), placed at the stretch's end.

    With at most one point per stretch (full-batch steps) the points come back unchanged.
    """
    if len(x) == 0:
        return [], []
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    bins = np.ceil(xs * per_unit - 1e-9).astype(int)  # a step that ends an epoch belongs to that epoch
    keys, first = np.unique(bins, return_index=True)
    counts = np.diff(np.append(first, len(bins)))
    sums = np.add.reduceat(ys, first)  # NaN or inf in a stretch make its mean so: the gap shows
    return (keys / per_unit).tolist(), (sums / counts).tolist()


class BinnedCostCurves(CostCurves):
    """CostCurves whose runs are drawn as means over stretches of 1/`points_per_epoch` epoch (x in epochs)."""

    def __init__(self, title: str, *, points_per_epoch: int = 10, **options):
        super().__init__(title, **options)
        self.points_per_epoch = points_per_epoch

    def _points(self, steps: Sequence[float], costs: Sequence[float]) -> tuple[list[float], list[float]]:
        return bin_means(steps, costs, self.points_per_epoch)
