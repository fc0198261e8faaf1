"""lab.data_mismatch: the gaps are the differences of neighbouring rows, and the table is measured, not assumed."""

import pytest

from lab.data.shifted_digits import load_mismatched_digits
from lab.data_mismatch import ADVICE, ErrorTable, error_table, with_human_level
from lab.softmax import accuracy, make_network


@pytest.mark.parametrize("errors, largest", [
    ((0.01, 0.10, 0.11, 0.12, 0.12), "avoidable bias"),
    ((0.01, 0.02, 0.10, 0.11, 0.11), "variance"),
    ((0.01, 0.02, 0.03, 0.20, 0.21), "data mismatch"),
    ((0.01, 0.02, 0.03, 0.04, 0.10), "overfitting to dev"),
])
def test_gaps_and_the_largest_one(errors, largest):
    table = ErrorTable(*errors)
    h, tr, td, dev, test = errors
    assert table.gaps == pytest.approx({"avoidable bias": tr - h, "variance": td - tr, "data mismatch": dev - td,
                                        "overfitting to dev": test - dev})
    assert table.largest_gap == largest and largest in ADVICE


def test_a_human_level_above_the_train_error_leaves_no_avoidable_bias():
    table = with_human_level(ErrorTable(0.0, 0.05, 0.06, 0.2, 0.2), 8.0)
    assert table.human == pytest.approx(0.08) and table.gaps["avoidable bias"] < 0


def test_error_table_measures_each_set():
    data = load_mismatched_digits(0.3, 0.5, 1)
    network = make_network("torch_autograd", 64, 8, 10, seed=0)
    table = error_table(network, data, 2.0)
    assert table.human == pytest.approx(0.02)
    assert table.dev == pytest.approx(1 - accuracy(network, data.X_dev, data.Y_dev))
    assert table.train_dev == pytest.approx(1 - accuracy(network, data.X_train_dev, data.Y_train_dev))


def test_bad_human_level_is_named():
    with pytest.raises(ValueError, match="'human_level_error'"):
        with_human_level(ErrorTable(0, 0, 0, 0, 0), -1.0)
