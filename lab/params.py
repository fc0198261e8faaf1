"""Every tunable hyperparameter of the lab, declared once.

The same declaration validates configs (a `ValueError` that names the parameter and the bad value)
and builds the sliders in `widgets.controls`, so the UI cannot offer a value the backend rejects.
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
        if self.integer and int(value) != value:
            raise ValueError(f"The '{self.name}' parameter must be a whole number. Got {value!r} instead.")
        if not math.isfinite(value):
            raise ValueError(f"The '{self.name}' parameter must be finite. Got {value!r} instead.")
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            raise ValueError(f"The '{self.name}' parameter must be {self.range_text()}. Got {value!r} instead.")
        if self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)):
            raise ValueError(f"The '{self.name}' parameter must be {self.range_text()}. Got {value!r} instead.")
        return int(value) if self.integer else value

    def range_text(self) -> str:
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        return f"in the range {left}{self.low}, {self.high}{right}"


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
        Param("loss", "Loss", "Cross-entropy (the course) or squared error (the notes' ½(ŷ−y)²).",
              "cross_entropy", options=("cross_entropy", "squared_error")),
        Param("z", "z = wᵀx + b", "The linear score before the sigmoid.", 0.0, low=-50.0, high=50.0, step=0.1,
              ui_low=-10.0, ui_high=10.0),
        Param("line_span", "Distance from w = 0", "How far along the chosen direction the cost is drawn.",
              3.0, low=0.01, high=1000.0, log=True, ui_low=0.1, ui_high=100.0),
        Param("example_index", "Example", "Which training example to show.", 0, low=0, high=1_000_000,
              step=1, integer=True),
        # Deep networks, initialization, regularization, optimization (labs 04, 05, 07)
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
        Param("lr_schedule", "Learning-rate decay", "How α shrinks with the epoch number t.",
              "none", options=("none", "inverse_time", "exponential", "staircase")),
        Param("decay_rate", "Decay rate d", "How fast the learning rate decays.",
              0.0, low=0.0, high=10.0, step=0.01, ui_high=2.0),
        Param("surface", "Cost surface", "The two-weight cost the optimizers walk down: a long narrow bowl, "
              "or a curved banana-shaped valley.", "bowl", options=("bowl", "banana")),
        Param("patience", "Early-stopping patience", "Epochs without a better dev cost before training stops; "
              "0 turns early stopping off.", 0, low=0, high=1000, step=1, integer=True, ui_high=50),
        Param("augmentation", "Data augmentation", "Extra training examples made from the real ones.",
              "off", options=("off", "mirror")),
        Param("overfit_data", "Data", "Real images to overfit on: 100 handwritten digits (odd or even?) "
              "or 30 photos (face or not?).", "digits", options=("digits", "faces")),
        # Convolutions, detection, embeddings (labs 12, 14, 18)
        Param("stride", "Stride s", "How many pixels the filter moves between two outputs.",
              1, low=1, high=64, step=1, integer=True, ui_high=8),
        Param("padding", "Padding p", "Rows and columns of zeros added around the input.",
              0, low=0, high=64, step=1, integer=True, ui_high=8),
        Param("pool_size", "Pooling window f", "Side of the square window that pooling summarises.",
              2, low=1, high=16, step=1, integer=True, ui_high=8),
        Param("pool_mode", "Pooling", "Max keeps the largest value in each window; average keeps their mean.",
              "max", options=("max", "average")),
        Param("conv_filter", "Filter preset", "A classic 3×3 filter to load into the editable grid.",
              "vertical_edge", options=("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x",
                                        "scharr_y", "box_blur", "gaussian_blur", "sharpen", "identity")),
        Param("kernel_weight", "Filter weight", "One number of the filter; it multiplies the pixel under it.",
              0.0, low=-1000.0, high=1000.0, step=0.1),
        Param("photo", "Photo", "The real photo (from scikit-image, in grey) that the filter slides over.",
              "chelsea", options=("chelsea", "camera", "astronaut", "coffee", "brick", "grass", "gravel")),
        Param("score_threshold", "Score threshold", "Boxes whose score p_c × class probability is lower are dropped.",
              0.6, low=0.0, high=1.0, step=0.01),
        Param("iou_threshold", "IoU threshold (NMS)", "Non-max suppression removes a box that overlaps a "
              "higher-scoring one by more than this IoU.", 0.5, low=0.0, high=1.0, step=0.01),
        Param("grid_size", "Grid S × S", "The image is cut into S × S cells; each predicts boxes.",
              4, low=1, high=32, step=1, integer=True, ui_high=19),
        Param("num_anchors", "Anchor boxes", "Box shapes each grid cell predicts for.",
              2, low=1, high=16, step=1, integer=True, ui_high=9),
        Param("box_x", "Left edge x", "Where the box's left side is, in pixels from the left.",
              20.0, low=-1000.0, high=1000.0, step=1.0, ui_low=0.0, ui_high=80.0),
        Param("box_y", "Top edge y", "Where the box's top side is, in pixels from the top.",
              20.0, low=-1000.0, high=1000.0, step=1.0, ui_low=0.0, ui_high=80.0),
        Param("box_width", "Width", "The box's width in pixels.", 40.0, low=0.0, high=1000.0, step=1.0,
              ui_low=1.0, ui_high=80.0),
        Param("box_height", "Height", "The box's height in pixels.", 40.0, low=0.0, high=1000.0, step=1.0,
              ui_low=1.0, ui_high=80.0),
        Param("window_stride", "Window stride", "Pixels a sliding window moves between two positions.",
              4, low=1, high=64, step=1, integer=True, ui_high=16),
        Param("detector_steps", "Training steps", "Mini-batches of 32 fresh scenes the detector learns from.",
              600, low=1, high=100_000, step=50, integer=True, ui_low=50, ui_high=3000),
        Param("context_window", "Context window", "How many words on each side count as context.",
              2, low=1, high=20, step=1, integer=True, ui_high=10),
        Param("num_negatives", "Negative samples k", "Random words contrasted with each true context word.",
              5, low=1, high=50, step=1, integer=True, ui_high=20),
        Param("embedding_dim", "Embedding size", "Length of each learned word vector.",
              16, low=2, high=512, step=1, integer=True, ui_high=128),
        Param("top_k", "Answers shown", "How many ranked answers to list.", 5, low=1, high=100, step=1,
              integer=True, ui_high=20),
        Param("feature_scale", "Feature scale ratio",
              "How many times larger one input feature is than the other.",
              100.0, low=1.0, high=1000.0, log=True),
    ]
}


def validate(name: str, value):
    """Validate one named parameter; unknown names are a ValueError too."""
    if name not in PARAMS:
        raise ValueError(f"Unknown parameter {name!r}; known parameters: {sorted(PARAMS)}.")
    return PARAMS[name].validate(value)
