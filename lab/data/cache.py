"""Data derived from installed files, kept on disk so that the next kernel reads it instead of computing it again.

A lab's kernel starts fresh each time a page opens it, so whatever a notebook derives at load (GloVe's word list
from parquet, its unit vectors) would be derived again on every visit. A cached file is named after its source
files' paths, sizes and modification times: a reinstalled package gets new files, never stale ones. Writing is
best effort: on a read-only disk the data is derived every time, as before, and nothing else changes.

The folder is `LAB_CACHE_DIR` if set, else `$XDG_CACHE_HOME/dl-lab`, else `~/.cache/dl-lab`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    if os.environ.get("LAB_CACHE_DIR"):
        return Path(os.environ["LAB_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dl-lab"


def cache_path(name: str, sources: list[Path], suffix: str) -> Path:
    """Where `name` derived from `sources` is kept: a different file whenever a source changes."""
    stamp = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sources)
    return cache_dir() / f"{name}-{hashlib.sha1(stamp.encode()).hexdigest()[:12]}{suffix}"


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)`, then rename into place: a kernel reading at the same moment sees the whole file or none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.close(handle)
        try:
            write(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # no cache on a read-only disk: the caller has the data anyway


def cached_lines(name: str, sources: list[Path], build: Callable[[], list[str]]) -> list[str]:
    """`build()`, a list of one-line strings, read from the cache when an earlier kernel kept it."""
    path = cache_path(name, sources, ".txt")
    try:
        return path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):  # not kept yet (or unreadable): build it
        pass
    lines = build()
    if lines and not any("\n" in line for line in lines):  # one entry per line, or it cannot be read back
        _write_atomically(path, lambda tmp: tmp.write_text("\n".join(lines), encoding="utf-8"))
    return lines


def cached_array(name: str, sources: list[Path], build: Callable[[], np.ndarray]) -> np.ndarray:
    """`build()`, read from the cache as a copy-on-write memory map when an earlier kernel kept it (rows are read
    from disk when used; writing to it changes this process's copy only)."""
    path = cache_path(name, sources, ".npy")
    try:
        return np.load(path, mmap_mode="c")
    except (OSError, ValueError):  # not kept yet (or unreadable): build it
        pass
    array = build()

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as file:
            np.save(file, array)

    _write_atomically(path, write)
    return array
