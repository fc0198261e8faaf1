"""lab.data.cache: derived data computed once, then read back; never stale, never in the way."""

import os

import numpy as np
import pytest

from lab.data.cache import cache_dir, cached_array, cached_lines


@pytest.fixture
def source(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "source.bin"
    path.write_bytes(b"first")
    return path


def counting(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_lines_are_built_once_then_read_back(source):
    build, calls = counting(["the", ",", "naïve", ""])
    assert cached_lines("words", [source], build) == ["the", ",", "naïve", ""]
    assert cached_lines("words", [source], build) == ["the", ",", "naïve", ""]
    assert len(calls) == 1 and len(list(cache_dir().glob("words-*.txt"))) == 1


def test_a_changed_source_is_never_read_from_an_old_copy(source):
    cached_lines("words", [source], lambda: ["old"])
    source.write_bytes(b"second, longer")
    os.utime(source, ns=(1, 1))
    assert cached_lines("words", [source], lambda: ["new"]) == ["new"]


def test_lines_that_hold_a_line_break_are_not_kept(source):
    build, calls = counting(["one\ntwo"])
    cached_lines("words", [source], build)
    assert cached_lines("words", [source], build) == ["one\ntwo"] and len(calls) == 2


def test_an_array_comes_back_equal_as_a_copy_on_write_map(source):
    build, calls = counting(np.arange(12, dtype=np.float32).reshape(4, 3))
    first = cached_array("unit", [source], build)
    again = cached_array("unit", [source], build)
    assert len(calls) == 1 and isinstance(again, np.memmap) and again.dtype == np.float32
    np.testing.assert_array_equal(again, first)
    again[0, 0] = 99.0  # writable for this process only
    np.testing.assert_array_equal(cached_array("unit", [source], build)[0], [0.0, 1.0, 2.0])


def test_no_cache_where_nothing_can_be_written(source, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LAB_CACHE_DIR", str(blocker / "cache"))  # a folder inside a file: every write fails
    build, calls = counting(["a", "b"])
    assert cached_lines("words", [source], build) == ["a", "b"]
    assert cached_lines("words", [source], build) == ["a", "b"] and len(calls) == 2
    np.testing.assert_array_equal(cached_array("unit", [source], lambda: np.ones(3)), np.ones(3))


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("LAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "dl-lab"
