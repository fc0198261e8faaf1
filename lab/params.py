"""Every tunable hyperparameter of the lab, declared once.

The same declaration validates configs (a `ValueError` that names the parameter and the bad value)
and builds the sliders in `widgets.controls`, so the UI cannot offer a value the backend rejects.

This module declares the hyperparameters several topics share (α, iterations, β, seed …). A knob only one
topic has is declared next to that topic's code and `register`ed when its module is imported, e.g. "stride"
in `lab.convolution`; `all_params()` imports every module of the lab first, for whoever needs them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    name: str  # keyword used in configs and function signatures, e.g. "lr"
    label: str  # full label shown next to the control
    help: str  # one sentence for tooltips: what the value does
    default: float | int | str
    low: float | None = None  # smallest allowed value (None for option lists)
    high: float | None = None  # largest allowed value
    low_inclusive: bool = True  # False: `low` itself is not allowed (e.g. keep-prob 0)
    high_inclusive: bool = True  # False: `high` itself is not allowed (e.g. beta 1)
    step: float | None = None  # slider step on a linear scale
    log: bool = False  # slider moves on a log10 scale
    integer: bool = False  # only whole numbers
    options: tuple[str, ...] = ()  # allowed values for a choice
    ui_low: float | None = None  # where the slider starts, when narrower than the allowed range
    ui_high: float | None = None  # where the slider ends

    @property
    def slider_range(self) -> tuple[float, float]:
        """The range a standard slider offers: inside the allowed range, exclusive bounds excluded."""
        return (self.low if self.ui_low is None else self.ui_low,
                self.high if self.ui_high is None else self.ui_high)

    def validate(self, value):
        """Return `value` unchanged if it is allowed, else raise ValueError naming the parameter."""
        if self.options:
            if value not in self.options:
                raise ValueError(
                    f"The '{self.name}' parameter must be one of {list(self.options)}. Got {value!r} instead."
                )
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"The '{self.name}' parameter must be a number. Got {value!r} instead.")
        if not math.isfinite(value):  # before the whole-number test: int(nan) and int(inf) raise their own errors
            raise ValueError(f"The '{self.name}' parameter must be finite. Got {value!r} instead.")
        if self.integer and int(value) != value:
            raise ValueError(f"The '{self.name}' parameter must be a whole number. Got {value!r} instead.")
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            raise ValueError(f"The '{self.name}' parameter must be {self.range_text()}. Got {value!r} instead.")
        if self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)):
            raise ValueError(f"The '{self.name}' parameter must be {self.range_text()}. Got {value!r} instead.")
        return int(value) if self.integer else value

    def range_text(self) -> str:
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        return f"in the range {left}{self.low}, {self.high}{right}"


# The registry: the shared parameters below, then each topic's own as its module registers them.
PARAMS: dict[str, Param] = {
    p.name: p
    for p in [
        Param("lr", "Learning rate α", "Size of each gradient-descent step: too small crawls, too large diverges.",
              0.005, low=1e-5, high=10.0, low_inclusive=False, log=True, ui_low=1e-4),
        Param("num_iterations", "Iterations", "Number of gradient-descent steps on the whole training set.",
              1000, low=1, high=20000, step=50, integer=True, ui_low=50, ui_high=5000),
        Param("num_epochs", "Epochs", "Number of passes over the training set.",
              20, low=1, high=500, step=1, integer=True, ui_high=100),
        Param("batch_size", "Mini-batch size", "Examples per gradient step: 1 is SGD, m is batch gradient descent.",
              64, low=1, high=100_000, step=1, integer=True, ui_high=1024),
        Param("init_factor", "Init factor", "Scale of the random initial weights.",
              0.01, low=0.0, high=100.0, log=True, ui_low=1e-3, ui_high=10.0),
        Param("keep_prob", "Keep-prob", "Probability that dropout keeps a unit; 1 means no dropout.",
              1.0, low=0.0, high=1.0, low_inclusive=False, step=0.05, ui_low=0.05),
        Param("lambd", "L2 strength λ", "Weight of the (λ/2m)·Σ‖W‖² penalty added to the cost.",
              0.0, low=0.0, high=100.0, step=0.1, ui_high=10.0),
        Param("beta", "Momentum β", "Weight of the past in the exponentially weighted average of gradients.",
              0.9, low=0.0, high=1.0, high_inclusive=False, step=0.01, ui_high=0.99),
        Param("beta1", "Adam β₁", "Decay of Adam's first-moment (mean gradient) average.",
              0.9, low=0.0, high=1.0, high_inclusive=False, step=0.01, ui_high=0.99),
        Param("beta2", "Adam β₂", "Decay of Adam's second-moment (squared gradient) average.",
              0.999, low=0.0, high=1.0, high_inclusive=False, step=0.001, ui_low=0.9, ui_high=0.9999),
        Param("seed", "Seed", "Fixes the random numbers, so the same settings give the same run.",
              0, low=0, high=2**31 - 1, step=1, integer=True, ui_high=99),
        Param("example_index", "Example", "Which training example to show.", 0, low=0, high=1_000_000,
              step=1, integer=True),
        Param("activation", "Hidden activation", "The non-linearity g(z) of every hidden layer.",
              "relu", options=("sigmoid", "tanh", "relu", "leaky_relu")),
        Param("init_scheme", "Initialization", "How the initial weights are drawn: zeros, random × factor, He "
              "(√(2/n^[l−1])), Xavier (√(1/n^[l−1])) or Glorot (√(2/(n^[l−1] + n^[l]))).",
              "he", options=("zeros", "random", "he", "xavier", "glorot")),
        Param("depth", "Layers L", "Number of layers with weights, the output layer included.",
              5, low=1, high=50, step=1, integer=True, ui_low=2, ui_high=20),
        Param("hidden_units", "Hidden units per layer", "Width n^[l] of every hidden layer.",
              16, low=1, high=1024, step=1, integer=True, ui_high=128),
        Param("optimizer", "Optimizer", "The update rule: plain gradient descent, momentum, RMSprop or Adam.",
              "adam", options=("gd", "momentum", "rmsprop", "adam")),
        Param("epsilon", "ε", "Added to the denominator of RMSprop and Adam so it never divides by zero.",
              1e-8, low=0.0, high=1.0, low_inclusive=False, log=True, ui_low=1e-10, ui_high=1e-2),
    ]
}


def register(*params: Param) -> None:
    """Add topic parameters to `PARAMS`. Registering the identical declaration again is a no-op (a module
    may be reloaded); another declaration under a taken name is a ValueError."""
    new: dict[str, Param] = {}
    for p in params:
        if not isinstance(p, Param):
            raise TypeError(f"register() takes Param declarations. Got {p!r} instead.")
        known = new.get(p.name, PARAMS.get(p.name))
        if known is not None and known != p:
            raise ValueError(f"The parameter {p.name!r} is already declared differently: {known!r}. "
                             f"Got {p!r} instead.")
        new[p.name] = p
    PARAMS.update(new)  # all or nothing: a refused call registers none of its parameters


def param(name: str) -> Param:
    """The declaration of `name`; an unknown name is a ValueError listing the known ones.

    A topic's parameters are known once its module has been imported (see `all_params`).
    """
    if name not in PARAMS:
        raise ValueError(f"Unknown parameter {name!r}; known parameters: {sorted(PARAMS)}.")
    return PARAMS[name]


def validate(name: str, value):
    """Validate one named parameter; unknown names are a ValueError too."""
    return param(name).validate(value)


def all_params() -> dict[str, Param]:
    """Every parameter of the lab: imports each module of the `lab` package (so each topic registers its own),
    then returns `PARAMS`. Slow the first time (it loads every topic); for tests and tools, not for dashboards."""
    import importlib
    import pkgutil

    import lab

    for module in pkgutil.walk_packages(lab.__path__, "lab."):
        importlib.import_module(module.name)
    return PARAMS
