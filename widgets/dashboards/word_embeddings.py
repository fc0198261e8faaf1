"""Lab 18, word embeddings: analogies, neighbours and similarities on real GloVe vectors, and skip-gram trained live."""

from __future__ import annotations

import html

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data.corpus import Corpus, make_corpus
from lab.embeddings import WordVectors
from lab.skipgram import SkipGram
from lab.training import EvalEvent, train
from widgets.controls import LABEL_STYLE, control
from widgets.dashboard import Dashboard, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.embedding_scatter import EmbeddingScatter
from widgets.views.figure import PALETTE, make_figure

# Pairs whose GloVe cosines span the scale, shown beside the learner's own pair.
REFERENCE_PAIRS = (("tuesday", "wednesday"), ("cat", "dog"), ("hot", "cold"), ("king", "queen"),
                   ("apple", "banana"), ("king", "banana"), ("piano", "volcano"), ("king", "carburetor"))


def word_box(description: str, value: str, tooltip: str) -> W.Text:
    """A labelled text box that reports its value on Enter or when it loses focus, not on every key."""
    return W.Text(value=value, description=description, tooltip=tooltip, placeholder="type a word",
                  continuous_update=False, style=LABEL_STYLE, layout={"width": "260px"})


def _warning(text: str) -> str:
    return (f'<div role="alert" style="color:#5a2a00;background:#fff1e0;padding:6px 10px;border-radius:4px">'
            f"⚠ {html.escape(text)}</div>")


def _meaning(cosine: float) -> str:
    if cosine > 0.7:
        return "close to 1: the words occur in very similar contexts"
    if cosine > 0.35:
        return "clearly positive: related words"
    if cosine > -0.1:
        return "near 0: unrelated, the vectors are almost orthogonal"
    return "negative: the vectors point in opposite directions"


def _ranked_table(pairs: list[tuple[str, float]], caption: str) -> str:
    rows = "".join(f"<tr><td>{rank}</td><td><b>{html.escape(word)}</b></td><td>{score:.3f}</td>"
                   f'<td><div style="background:{PALETTE[0]};height:10px;width:{max(score, 0) * 120:.0f}px">'
                   "</div></td></tr>" for rank, (word, score) in enumerate(pairs, 1))
    return (f'<table style="border-collapse:collapse"><caption style="text-align:left">{caption}</caption>'
            f"<tr><th>#</th><th>word</th><th>cosine</th><th></th></tr>{rows}</table>")


def analogy_dashboard(vectors: WordVectors | None = None) -> Dashboard:
    """"a is to b as c is to ?": three word boxes → ranked answers and a 2-D picture with the analogy arrows."""
    vectors = vectors or WordVectors.load()
    boxes = {"a": word_box("a", "man", "The first word of the known pair"),
             "b": word_box("is to b", "woman", "The second word of the known pair"),
             "c": word_box("as c", "king", "The word whose partner we look for")}
    top_k = control("top_k")
    text, answers = readout(), W.HTML()
    scatter = EmbeddingScatter("Words of the analogy, projected on 2 principal components",
                               ["query words", "best answer", "other answers"], num_arrows=2, width=760,
                               arrow_names=["a → b", "c → answer"])

    def show(*_) -> None:
        a, b, c = (boxes[k].value for k in "abc")
        problem = vectors.check(a, b, c)
        if problem:
            text.value, answers.value = _warning(problem), ""
            return
        ranked = vectors.analogy(a, b, c, top_k.value)
        words = [a, b, c] + [w for w, _ in ranked]
        points, _ = vectors.project(words)
        best, score = ranked[0]
        groups = ["query words"] * 3 + ["best answer"] + ["other answers"] * (len(ranked) - 1)
        scatter.show(points.tolist(), words, groups, arrows=[(0, 1), (2, 3)])
        text.value = (f"{html.escape(a)} is to {html.escape(b)} as {html.escape(c)} is to <b>{html.escape(best)}</b>: "
                      f"its vector has cosine similarity <b>{score:.3f}</b> with e<sub>{html.escape(b)}</sub> − "
                      f"e<sub>{html.escape(a)}</sub> + e<sub>{html.escape(c)}</sub> (searched among all "
                      f"{len(vectors):,} words, the three query words left out).")
        answers.value = _ranked_table(ranked, "Best answers")

    redraw_on([*boxes.values(), top_k], show, text)
    return Dashboard([W.HBox(list(boxes.values())), top_k, text, W.HBox([scatter.figure, answers])],
                     controls={**boxes, "top_k": top_k}, figures={"projection": scatter.figure}, readout=text)


def nearest_dashboard(vectors: WordVectors | None = None) -> Dashboard:
    """A word box and the number of answers → its nearest neighbours by cosine similarity, as bars."""
    vectors = vectors or WordVectors.load()
    word = word_box("Word", "frog", "The word whose nearest neighbours are listed")
    top_k = control("top_k", value=10)
    text = readout()
    figure = make_figure("Nearest neighbours by cosine similarity", "cosine similarity", height=380, width=640)
    figure.add_trace(go.Bar(x=[], y=[], orientation="h", marker={"color": PALETTE[0]}, name="cosine",
                            texttemplate="%{x:.3f}", textposition="outside"))
    figure.update_xaxes(range=[0, 1.1])
    figure.update_yaxes(type="category", autorange="reversed")

    def show(*_) -> None:
        problem = vectors.check(word.value)
        if problem:
            text.value = _warning(problem)
            return
        ranked = vectors.nearest(word.value, top_k.value)
        with figure.batch_update():
            figure.data[0].y = [w for w, _ in ranked]
            figure.data[0].x = [s for _, s in ranked]
        best, score = ranked[0]
        text.value = (f"The word closest to <b>{html.escape(word.value.strip().lower())}</b> is <b>{html.escape(best)}"
                      f"</b> (cosine {score:.3f}); the {len(ranked)}th closest has cosine {ranked[-1][1]:.3f}.")

    redraw_on([word, top_k], show, text)
    return Dashboard([W.HBox([word, top_k]), text, figure], controls={"word": word, "top_k": top_k},
                     figures={"neighbours": figure}, readout=text)


def similarity_dashboard(vectors: WordVectors | None = None) -> Dashboard:
    """Two word boxes → their cosine similarity in words, on a −1…1 scale beside reference pairs."""
    vectors = vectors or WordVectors.load()
    w1 = word_box("Word 1", "king", "First word of the pair")
    w2 = word_box("Word 2", "queen", "Second word of the pair")
    text = readout()
    references = [(f"{a} · {b}", vectors.similarity(a, b)) for a, b in REFERENCE_PAIRS]
    figure = make_figure("Cosine similarity: 1 same direction, 0 unrelated, −1 opposite", "cosine similarity",
                         height=380, width=640)
    figure.add_trace(go.Bar(x=[s for _, s in references], y=[n for n, _ in references], orientation="h",
                            marker={"color": PALETTE[4]}, name="reference pairs", texttemplate="%{x:.2f}",
                            textposition="outside", cliponaxis=False))
    figure.add_trace(go.Bar(x=[], y=[], orientation="h", marker={"color": PALETTE[5]}, name="your pair",
                            texttemplate="%{x:.2f}", textposition="outside", cliponaxis=False))
    figure.update_xaxes(range=[-1, 1], dtick=0.25)
    figure.update_yaxes(type="category", autorange="reversed")

    def show(*_) -> None:
        problem = vectors.check(w1.value, w2.value)
        if problem:
            text.value = _warning(problem)
            with figure.batch_update():
                figure.data[1].x, figure.data[1].y = [], []
            return
        a, b = w1.value.strip().lower(), w2.value.strip().lower()
        cosine = vectors.similarity(a, b)
        with figure.batch_update():
            figure.data[1].x, figure.data[1].y = [cosine], [f"{a} · {b}"]
        text.value = (f"cos(e<sub>{html.escape(a)}</sub>, e<sub>{html.escape(b)}</sub>) = <b>{cosine:.3f}</b>: "
                      f"{_meaning(cosine)}.")

    redraw_on([w1, w2], show, text)
    return Dashboard([W.HBox([w1, w2]), text, figure], controls={"word1": w1, "word2": w2},
                     figures={"similarities": figure}, readout=text)


# The badge says why this lab ignores the GPU; the status line names the device only.
SKIPGRAM_DEVICE = "CPU, one thread"
SKIPGRAM_DEVICE_NOTE = "a step works on a few thousand numbers: a GPU or more threads would only add overhead"


class PlantedWords:
    """The corpus's planted words in a 2-D projection of the learned vectors, coloured by group, planted pairs
    linked. A run keeps the principal axes of its first picture, so its points move instead of flipping."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.words = sorted(corpus.groups, key=lambda w: (corpus.groups[w], w))
        position = {w: i for i, w in enumerate(self.words)}
        self.links = [(position[a], position[b]) for pairs in corpus.relations.values() for a, b in pairs]
        self.scatter = EmbeddingScatter("Learned vectors of the planted words (2 principal components)",
                                        list(dict.fromkeys(corpus.groups[w] for w in self.words)),
                                        link_name="planted pairs", height=500, width=860)
        self.components: torch.Tensor | None = None  # (2, d) the current run's axes; None until its first picture

    def reset(self) -> None:
        """A new run: its first picture chooses the axes afresh."""
        self.components = None

    def show(self, task: SkipGram, step: int) -> None:
        points, self.components = task.project(self.words, reference=self.components)  # (m, 2), (2, d)
        self.scatter.show(points.tolist(), self.words, [self.corpus.groups[w] for w in self.words], links=self.links,
                          title=f"Learned vectors of the planted words after {step} steps (2 principal components)")


def skipgram_progress(task: SkipGram, event: EvalEvent) -> str:
    """The readout after an evaluation: how close the planted pairs are, and how many analogies are solved."""
    m = event.metrics
    return (f"After {event.step} steps: planted pairs have mean cosine <b>{m['planted_pair_cosine']:.2f}</b>, "
            f"all pairs of these words <b>{m['all_pair_cosine']:.2f}</b>; planted analogies solved: "
            f"<b>{m['analogy_accuracy']:.0%}</b> (e.g. man : woman :: king : "
            f"{html.escape(task.analogy('man', 'woman', 'king'))}).")


def skipgram_label(config: dict) -> str:
    return f"window {config['context_window']} · k={config['num_negatives']}"


def skipgram_dashboard(corpus: Corpus | None = None) -> Dashboard:
    """Train skip-gram with negative sampling on the generated corpus; watch the loss and the planted words."""
    corpus = corpus or make_corpus()
    controls = {"context_window": control("context_window"), "num_negatives": control("num_negatives"),
                "num_iterations": control("num_iterations", label="Training steps (mini-batches of 512 pairs)",
                                          value=3000, low=100, high=10000, step=100)}
    planted = PlantedWords(corpus)
    summary = readout()
    summary.value = (f"The corpus: {len(corpus.sentences):,} generated sentences, {corpus.num_tokens:,} words, "
                     f"a vocabulary of {len(corpus.vocab)}. Press Train.")

    def work(run: Run, cancel):
        # building the task makes the (context, target) pairs: ~0.1 s
        run.model = SkipGram(corpus, window=run.config["context_window"], num_negatives=run.config["num_negatives"])
        n = run.config["num_iterations"]
        yield from train(run.model, n, cancel=cancel, eval_every=max(1, n // 20))

    def show_progress(run: Run, items) -> None:
        for _, event in items:
            if isinstance(event, EvalEvent):
                summary.value = skipgram_progress(run.model, event)
        planted.show(run.model, run.history.steps[-1] if run.history.steps else 0)

    panel = TrainingPanel(controls, work, label=skipgram_label, device_text=SKIPGRAM_DEVICE,
                          device_note=SKIPGRAM_DEVICE_NOTE,
                          costs=CostCurves("Skip-gram loss per mini-batch (runs overlaid)", x_title="step",
                                           log_y=False, height=320),
                          on_start=lambda _run: planted.reset(), on_update=show_progress)
    return panel.dashboard(summary, W.HBox([planted.scatter.figure]), panel.costs.figure, readout=summary,
                           figures={"projection": planted.scatter.figure, "costs": panel.costs.figure})
