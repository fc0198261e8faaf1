"""The embedding scatter (widgets/views/embedding_scatter.py): words drawn as text only where a group has some."""

from widgets.views.embedding_scatter import EmbeddingScatter


def test_a_group_without_words_draws_its_points_as_markers_only():
    scatter = EmbeddingScatter("Embeddings", ["words", "digits"], num_arrows=1)
    scatter.show([(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)], ["king", "", ""], ["words", "digits", "digits"],
                 arrows=[(0, 2)])
    assert scatter.trace("words").mode == "markers+text" and list(scatter.trace("words").text) == ["king"]
    digits = scatter.trace("digits")
    assert digits.mode == "markers" and list(digits.x) == [1.0, 2.0]
    assert list(digits.text) == ["", ""]  # kept for the hover template
    scatter.show([(0.0, 0.0)], ["queen"], ["digits"])  # words again: text again
    assert scatter.trace("digits").mode == "markers+text"
    assert list(scatter.trace("arrow0").x) == []  # no arrow asked for: hidden
