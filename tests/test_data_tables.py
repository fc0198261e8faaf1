"""lab.data.tables: scikit-learn's wine and breast-cancer measurements, read offline from its own files."""

import pytest
import torch

from lab.data.tables import TABLES, load_table


@pytest.mark.parametrize(("name", "shape", "classes"), [("wine", (13, 178), 3), ("breast_cancer", (30, 569), 2)])
def test_tables_have_one_column_per_example_and_a_name_per_feature(name, shape, classes):
    table = load_table(name)
    assert table.X.shape == shape and table.X.dtype == torch.float64
    assert table.y.shape == (shape[1],) and table.y.dtype == torch.int64
    assert len(table.feature_names) == shape[0] and len(set(table.feature_names)) == shape[0]
    assert len(table.class_names) == classes and set(table.y.tolist()) == set(range(classes))
    assert torch.isfinite(table.X).all() and (table.X >= 0).all()


@pytest.mark.parametrize("name", TABLES)
def test_tables_equal_scikit_learns_loaders(name):
    from sklearn import datasets

    reference = {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer}[name]()
    table = load_table(name)
    torch.testing.assert_close(table.X, torch.as_tensor(reference.data.T, dtype=torch.float64))
    assert table.y.tolist() == reference.target.tolist()
    assert table.class_names == tuple(reference.target_names)


def test_the_first_wine_is_the_one_in_the_file():
    table = load_table("wine")
    assert table.X[:, 0].tolist() == [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065]
    assert table.feature_names[0] == "alcohol" and table.feature_names[-1] == "proline"
    assert load_table("breast_cancer").feature_names[3] == "mean area"


def test_an_unknown_table_is_named():
    with pytest.raises(ValueError, match=r"The 'feature_table' parameter must be one of \['wine', 'breast_cancer'\]"):
        load_table("iris")
