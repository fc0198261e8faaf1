"""Where the errors come from: the table human level → train → train-dev → dev → test, and what to do next.

Each step down the table adds one reason to fail, so each difference between neighbours measures one problem:

    avoidable bias   = train error − human-level error   (the model does not even fit what it trained on)
    variance         = train-dev error − train error      (same distribution, examples it never saw)
    data mismatch    = dev error − train-dev error        (the dev/test distribution differs from training)
    overfitting dev  = test error − dev error             (settings were tuned to the dev set itself)

Human-level error stands in for the Bayes (lowest possible) error. The largest gap is the one to work on first.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.data.shifted_digits import MismatchSplit
from lab.params import Param, register, validate
from lab.softmax import SoftmaxNetwork, TorchSoftmaxNetwork, accuracy

register(
    Param("human_level_error", "Human-level error (%)", "The error people make on these images: the stand-in for "
          "the lowest error any model could reach (Bayes error).", 1.0, low=0.0, high=100.0, step=0.5,
          ui_high=20.0),
)

GAPS = ("avoidable bias", "variance", "data mismatch", "overfitting to dev")

ADVICE = {
    "avoidable bias": "Fit the training set better: a bigger network (more hidden units), train longer or with a "
                      "better optimizer, or another architecture.",
    "variance": "Generalize better within the training distribution: more training data, regularization (L2, "
                "dropout, augmentation), or a different architecture.",
    "data mismatch": "Make training look like dev/test: study how they differ (error analysis on the dev set), "
                     "then collect training data more like it, or synthesize it (add the noise, blur and shifts "
                     "to clean training digits).",
    "overfitting to dev": "The dev set has been tuned to: get a bigger dev set.",
}


@dataclass(frozen=True)
class ErrorTable:
    human: float  # each a fraction of the set misclassified, 0…1
    train: float
    train_dev: float
    dev: float
    test: float

    @property
    def rows(self) -> list[tuple[str, float]]:
        return [("human level", self.human), ("train", self.train), ("train-dev", self.train_dev),
                ("dev", self.dev), ("test", self.test)]

    @property
    def gaps(self) -> dict[str, float]:
        """Each problem's size, the difference between neighbouring rows (may be negative: none of it)."""
        errors = [e for _, e in self.rows]
        return {name: b - a for name, a, b in zip(GAPS, errors[:-1], errors[1:], strict=True)}

    @property
    def largest_gap(self) -> str:
        gaps = self.gaps
        return max(gaps, key=gaps.get)


def error_table(network: SoftmaxNetwork | TorchSoftmaxNetwork, data: MismatchSplit,
                human_level_error: float = 1.0) -> ErrorTable:
    """The table for `network` on the four sets of `data`; `human_level_error` in percent."""
    human = validate("human_level_error", human_level_error) / 100
    return ErrorTable(human, *(1 - accuracy(network, X, Y) for X, Y in (
        (data.X_train, data.Y_train), (data.X_train_dev, data.Y_train_dev), (data.X_dev, data.Y_dev),
        (data.X_test, data.Y_test))))


def with_human_level(table: ErrorTable, human_level_error: float) -> ErrorTable:
    """The same measured errors against another human level (percent): a new table, no new evaluation."""
    return ErrorTable(validate("human_level_error", human_level_error) / 100, table.train, table.train_dev,
                      table.dev, table.test)
