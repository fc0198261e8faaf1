"""Two real tables of measurements that ship with scikit-learn, read offline from its own data files:

- "wine": 178 Italian wines, 13 chemical measurements each (alcohol in %, proline in mg/l, hue as a ratio, …);
- "breast_cancer": 569 breast-tumour biopsies, 30 measurements of the cell nuclei (radius, area, smoothness, …).

Their features come in different units and sizes, from about 0.004 to about 900: what input normalization is for.
X has shape (n, m), one column per example; y has shape (m,) with the class index.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lab.params import Param, register, validate

TABLES = ("wine", "breast_cancer")
register(
    Param("feature_table", "Data set", "Which real table of measurements to normalize: 13 chemical measurements "
          "of 178 wines, or 30 measurements of the cell nuclei in 569 breast-tumour biopsies.", "wine",
          options=TABLES),
)

_WINE_FEATURES = ("alcohol", "malic acid", "ash", "alcalinity of ash", "magnesium", "total phenols", "flavanoids",
                  "nonflavanoid phenols", "proanthocyanins", "colour intensity", "hue", "OD280/OD315",
                  "proline")
_NUCLEUS = ("radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave points",
            "symmetry", "fractal dimension")
# scikit-learn's column order: the ten means, then their standard errors, then the worst (largest) values
_CANCER_FEATURES = (tuple(f"mean {f}" for f in _NUCLEUS) + tuple(f"{f} error" for f in _NUCLEUS)
                    + tuple(f"worst {f}" for f in _NUCLEUS))
_FILES = {"wine": ("wine_data.csv", _WINE_FEATURES, "178 wines from three cultivars"),
          "breast_cancer": ("breast_cancer.csv", _CANCER_FEATURES, "569 breast-tumour biopsies")}


@dataclass(frozen=True)
class Table:
    X: object  # torch.Tensor (n, m) float64: one column of measurements per example
    y: object  # torch.Tensor (m,) int64: the class index
    feature_names: tuple[str, ...]  # (n,) what each row of X measures
    class_names: tuple[str, ...]
    title: str  # e.g. "178 wines from three cultivars"


def load_table(name: str = "wine") -> Table:
    """The table called `name` ("wine" or "breast_cancer"), as float64 tensors. Callers must not modify it."""
    return _read(validate("feature_table", name))


@lru_cache(maxsize=len(TABLES))
def _read(name: str) -> Table:
    """Straight from scikit-learn's CSV file: the first line holds the counts and class names, every other line
    one example's measurements followed by its class index."""
    import numpy as np
    import torch

    file, features, title = _FILES[name]
    path = Path(importlib.util.find_spec("sklearn").submodule_search_locations[0]) / "datasets" / "data" / file
    with open(path) as handle:
        header = handle.readline().strip().split(",")
    rows = np.loadtxt(path, delimiter=",", skiprows=1)  # (m, n + 1)
    X = torch.as_tensor(rows[:, :-1].T.copy(), dtype=torch.float64)  # (n, m)
    y = torch.as_tensor(rows[:, -1], dtype=torch.int64)  # (m,)
    if X.shape != (len(features), int(header[0])):  # a scikit-learn release with another layout
        raise ValueError(f"scikit-learn's {file} holds {tuple(X.shape)} values, expected {len(features)} features "
                         f"of {header[0]} examples")
    return Table(X, y, features, tuple(header[2:]), title)
