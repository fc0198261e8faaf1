"""The word-embedding dashboards: every box and slider changes what it claims to; unknown words never raise."""

import itertools
import math
import time

import pytest

from lab.data.corpus import make_corpus
from lab.embeddings import WordVectors
from widgets.dashboards.word_embeddings import (
    analogy_dashboard,
    nearest_dashboard,
    similarity_dashboard,
    skipgram_dashboard,
)


@pytest.fixture
def glove():
    return WordVectors.load()  # loaded once per process: load() returns the cached vectors


def trace(figure, meta):
    return next(t for t in figure.data if t.meta == meta)


def test_analogy_boxes_give_the_answer_and_the_arrows(glove):
    dashboard = analogy_dashboard(glove)
    assert "king is to <b>queen</b>" in dashboard.readout.value
    figure = dashboard.figures["projection"]
    assert trace(figure, "best answer").text == ("queen",)
    for name, value in [("a", "france"), ("b", "paris"), ("c", "italy")]:
        dashboard.controls[name].value = value
    assert "france is to paris as italy is to <b>rome</b>" in dashboard.readout.value
    assert trace(figure, "query words").text == ("france", "paris", "italy")
    assert trace(figure, "best answer").text == ("rome",)
    # arrow a → b starts at france and ends at paris; arrow c → answer ends at rome
    query, best = trace(figure, "query words"), trace(figure, "best answer")
    assert trace(figure, "arrow0").x == (query.x[0], query.x[1])
    assert trace(figure, "arrow1").x == (query.x[2], best.x[0]) and trace(figure, "arrow1").y[1] == best.y[0]
    # the two arrows point about the same way: the analogy is a parallelogram
    a0, a1 = trace(figure, "arrow0"), trace(figure, "arrow1")
    u = (a0.x[1] - a0.x[0], a0.y[1] - a0.y[0])
    v = (a1.x[1] - a1.x[0], a1.y[1] - a1.y[0])
    assert (u[0] * v[0] + u[1] * v[1]) / (math.hypot(*u) * math.hypot(*v)) > 0.7


def test_analogy_number_of_answers(glove):
    dashboard = analogy_dashboard(glove)
    dashboard.controls["top_k"].value = 8
    figure = dashboard.figures["projection"]
    assert len(trace(figure, "other answers").x) == 7
    assert dashboard.readout.value and "<td>8</td>" in dashboard.children[-2].children[1].value


def test_unknown_word_shows_a_message_with_suggestions_and_keeps_the_picture(glove):
    dashboard = analogy_dashboard(glove)
    before = trace(dashboard.figures["projection"], "best answer").text
    dashboard.controls["c"].value = "kign"
    assert 'role="alert"' in dashboard.readout.value and "Error" not in dashboard.readout.value
    assert "&quot;kign&quot; is not among the 400,000 words" in dashboard.readout.value
    assert "Did you mean: king" in dashboard.readout.value
    assert trace(dashboard.figures["projection"], "best answer").text == before
    dashboard.controls["c"].value = ""
    assert "Type a word in each box." in dashboard.readout.value
    dashboard.controls["c"].value = "King "  # upper case and spaces are fine: GloVe 6B is lower case
    assert "is to <b>queen</b>" in dashboard.readout.value


def test_nearest_word_box_and_number_of_neighbours(glove):
    dashboard = nearest_dashboard(glove)
    bars = dashboard.figures["neighbours"].data[0]
    assert len(bars.y) == 10 and "frog" not in bars.y
    dashboard.controls["word"].value = "paris"
    assert "france" in bars.y and "closest to <b>paris</b>" in dashboard.readout.value
    assert list(bars.x) == sorted(bars.x, reverse=True)
    dashboard.controls["top_k"].value = 3
    assert len(bars.y) == 3
    dashboard.controls["word"].value = "pariss"
    assert "Did you mean: " in dashboard.readout.value and "paris" in dashboard.readout.value
    assert len(bars.y) == 3  # the last good answer stays


def test_similarity_boxes_read_out_the_cosine_in_words(glove):
    dashboard = similarity_dashboard(glove)
    yours = dashboard.figures["similarities"].data[1]
    assert yours.x[0] == pytest.approx(glove.similarity("king", "queen"))
    assert "close to 1" in dashboard.readout.value
    dashboard.controls["word2"].value = "carburetor"
    assert yours.x[0] < 0 and "negative" in dashboard.readout.value and yours.y == ("king · carburetor",)
    dashboard.controls["word1"].value = "piano"
    dashboard.controls["word2"].value = "volcano"
    assert abs(yours.x[0]) < 0.1 and "near 0: unrelated" in dashboard.readout.value
    dashboard.controls["word1"].value = "pianno"
    assert "Did you mean: piano" in dashboard.readout.value and yours.x == ()
    references = dashboard.figures["similarities"].data[0]
    assert min(references.x) < 0 < 0.9 < max(references.x)  # the reference pairs span the scale


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()  # read-only data; every test builds its own dashboard from it


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_skipgram_training_draws_the_planted_pairs_together(corpus):
    dashboard = skipgram_dashboard(corpus)
    assert "Press Train" in dashboard.readout.value
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(120)
    assert dashboard.status.kind == "success", dashboard.status.text
    figure = dashboard.figures["projection"]
    assert "after 3000 steps" in figure.layout.title.text
    assert "man : woman :: king : queen" in dashboard.readout.value and "solved: <b>100%</b>" in dashboard.readout.value
    # in the picture, words of one planted group (royals, countries, capitals, …) sit close together
    points = {}
    for t in figure.data:
        if t.mode == "markers+text":
            points |= {w: (t.meta, (x, y)) for w, x, y in zip(t.text, t.x, t.y, strict=True)}
    assert len(points) == 20
    pairs = list(itertools.combinations(points.values(), 2))
    within = [math.dist(p, q) for (g, p), (h, q) in pairs if g == h]
    between = [math.dist(p, q) for (g, p), (h, q) in pairs if g != h]
    assert sum(within) / len(within) < 0.5 * sum(between) / len(between)
    costs = dashboard.figures["costs"].data[-1]
    assert len(costs.x) == 3000 and costs.y[0] > 1.8 * max(costs.y[-20:])
    export = dashboard.panel.export.widget.value
    assert "Export this run" in export and "window_2_k5" in export


def test_skipgram_badge_says_why_it_computes_on_one_cpu_thread(corpus):
    dashboard = skipgram_dashboard(corpus)
    badge = dashboard.children[0].value
    assert "Computing on: <b>CPU, one thread" in badge and "a GPU or more threads would only add overhead" in badge


def test_skipgram_controls_start_runs_with_their_settings(corpus):
    dashboard = skipgram_dashboard(corpus)
    dashboard.controls["num_iterations"].value = 100
    assert dashboard.runner.wait(60)
    costs = dashboard.figures["costs"]
    assert len(costs.data[-1].x) == 100 and costs.data[-1].meta == "window 2 · k=5"
    assert costs.data[-1].y[0] == pytest.approx(6 * math.log(2), rel=1e-5)  # (k + 1)·log 2 at the start
    dashboard.controls["num_negatives"].value = 1
    assert dashboard.runner.wait(60)
    assert costs.data[-1].meta == "window 2 · k=1" and costs.data[-1].y[0] == pytest.approx(2 * math.log(2), rel=1e-5)
    dashboard.controls["context_window"].value = 4
    assert dashboard.runner.wait(60)
    assert costs.data[-1].meta == "window 4 · k=1" and len(costs.data) == 3
    assert "after 100 steps" in dashboard.figures["projection"].layout.title.text


def test_skipgram_stop_ends_the_run(corpus):
    dashboard = skipgram_dashboard(corpus)
    dashboard.controls["num_iterations"].value = 10000
    wait_for(lambda: dashboard.figures["costs"].data and dashboard.figures["costs"].data[-1].x)  # training has begun
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(60)
    assert dashboard.status.text.startswith("Stopped window 2 · k=5 after")
    assert len(dashboard.figures["costs"].data[-1].x) < 10000
