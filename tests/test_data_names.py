"""The census name lists from the `names` package."""

import pytest

from lab.data.names import load_names


def test_surnames_and_first_names_are_lower_case_letters():
    surnames, first = load_names("surnames"), load_names("first_names")
    assert len(surnames) == 88_799 and len(first) == 5_163
    for names in (surnames, first):
        assert list(names) == sorted(set(names))
        assert all(n.isascii() and n.isalpha() and n.islower() for n in names)
    assert {"smith", "johnson"} <= set(surnames) and {"emma", "james"} <= set(first)


def test_an_unknown_list_is_refused_by_name():
    with pytest.raises(ValueError, match="'which'.*'nicknames'"):
        load_names("nicknames")
