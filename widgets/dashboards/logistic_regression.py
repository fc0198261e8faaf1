"""Lab 01, logistic regression on the face photos: a photo as a feature vector, the sigmoid, why cross-entropy,
gradient descent with a learning-rate slider, and the notes' question "can α be a vector?"."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data.faces import load_faces
from lab.data.split import Split
from lab.logistic import LogisticRegression, cost_along_line, misclassified, negative_curvature_fraction, sigmoid
from lab.seeding import make_generator
from lab.training import train
from lab.vector_learning_rate import badly_scaled_split, learning_rate_contenders
from widgets.controls import control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, make_figure
from widgets.views.gradient_norms import GradientNorms
from widgets.views.image_grid import ImageGrid

LINE_POINTS = 201  # samples of the cost along a line through weight space


def photo_vector_dashboard(data: Split | None = None) -> Dashboard:
    """Slider over the training photos → the photo, its 625 pixel values as a vector, and the shapes."""
    data = data or load_faces()
    X, Y = data.X_train.cpu(), data.Y_train.cpu()  # (n, m), (1, m)
    n, m = X.shape
    h, w = data.image_shape
    index = control("example_index", label="Training photo #", value=0, high=m - 1, continuous_update=True)
    photo = make_figure("The photo", height=330, width=330)
    photo.update_xaxes(visible=False)
    photo.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    photo.add_trace(go.Heatmap(z=X[:, 0].reshape(h, w).tolist(), colorscale="gray", zmin=0, zmax=1,
                               showscale=False))
    vector = make_figure(f"…unrolled into x, a column of {n} numbers", "feature index j (row of X)", "x_j",
                         height=330, width=640)
    vector.add_trace(go.Scatter(x=list(range(n)), y=X[:, 0].tolist(), mode="lines",
                                line={"color": PALETTE[0], "width": 1.5}, name="pixel value"))
    vector.update_yaxes(range=[0, 1])
    shapes = readout()

    def show(*_) -> None:
        i = index.value
        label = data.class_names[int(Y[0, i])]
        with photo.batch_update(), vector.batch_update():
            photo.data[0].z = X[:, i].reshape(h, w).tolist()
            photo.layout.title.text = f"Photo #{i}: y = {int(Y[0, i])} ({label})"
            vector.data[0].y = X[:, i].tolist()
        shapes.value = (f"This {h}×{w} photo becomes x with shape <b>({n}, 1)</b>; stacking all {m} training "
                        f"photos as columns gives X with shape <b>({n}, {m})</b> and Y with shape <b>(1, {m})</b>. "
                        f"Photo #{i} is labelled y = {int(Y[0, i])} ({label}).")

    redraw_on([index], show, shapes)
    return Dashboard([index, shapes, W.HBox([photo, vector])], controls={"example_index": index},
                     figures={"photo": photo, "vector": vector}, readout=shapes)


def sigmoid_dashboard() -> Dashboard:
    """A z slider → a marker on σ(z) and the predicted probability in words."""
    z = control("z", continuous_update=True)
    zs = torch.linspace(-10, 10, 401, dtype=torch.float64)
    figure = make_figure("ŷ = σ(z) = 1 / (1 + e^(−z))", "z", "ŷ", height=320, width=640)
    figure.add_trace(go.Scatter(x=zs.tolist(), y=sigmoid(zs).tolist(), mode="lines", name="σ(z)",
                                line={"color": PALETTE[0], "width": 2.5}))
    figure.add_trace(go.Scatter(x=[0.0], y=[0.5], mode="markers", name="your z",
                                marker={"color": PALETTE[5], "size": 12}))
    figure.update_yaxes(range=[-0.05, 1.05])
    text = readout()

    def show(*_) -> None:
        value = float(z.value)
        p = sigmoid(torch.tensor(value, dtype=torch.float64)).item()
        with figure.batch_update():
            figure.data[1].x, figure.data[1].y = [value], [p]
        verdict = "face" if p > 0.5 else "not a face"
        text.value = (f"σ({value:.1f}) = <b>{p:.4f}</b>: the model says P(face) = {p:.1%}, "
                      f"so it predicts <b>{verdict}</b>.")

    redraw_on([z], show, text)
    return Dashboard([z, text, figure], controls={"z": z}, figures={"sigmoid": figure}, readout=text)


def loss_shape_dashboard(data: Split | None = None) -> Dashboard:
    """Direction seed and span → J(t·d) for both losses, with the share of the line where each bends down."""
    data = data or load_faces(dtype=torch.float64)
    X, Y = data.X_train.to(torch.float64), data.Y_train.to(torch.float64)
    seed = control("seed", label="Random direction d (seed)", value=0, high=50, continuous_update=True)
    span = control("line_span", continuous_update=True)
    figure = make_figure("Cost along the line w = t·d (b = 0)", "t", "cross-entropy cost", height=380, width=900)
    figure.update_layout(yaxis2={"title": {"text": "squared-error cost"}, "overlaying": "y", "side": "right"})
    figure.add_trace(go.Scatter(x=[], y=[], name="cross-entropy (left axis)", line={"color": PALETTE[0], "width": 3}))
    figure.add_trace(go.Scatter(x=[], y=[], name="½(ŷ − y)², the notes' loss (right axis)", yaxis="y2",
                                line={"color": PALETTE[1], "width": 3, "dash": "dash"}))
    text = readout()

    def show(*_) -> None:
        direction = torch.randn(X.shape[0], generator=make_generator(seed.value), dtype=torch.float64)
        direction = direction / direction.norm()  # (n,)
        ts = torch.linspace(-span.value, span.value, LINE_POINTS, dtype=torch.float64)
        ce = cost_along_line(X, Y, direction, ts, "cross_entropy")
        se = cost_along_line(X, Y, direction, ts, "squared_error")
        with figure.batch_update():
            figure.data[0].x = figure.data[1].x = ts.tolist()
            figure.data[0].y, figure.data[1].y = ce.tolist(), se.tolist()
        ce_down, se_down = negative_curvature_fraction(ce), negative_curvature_fraction(se)
        verdict = ("it is <b>not convex</b>: its flat shoulders give gradient descent almost no slope to follow"
                   if se_down > 0 else "on so short a stretch it looks convex too — widen the distance")
        text.value = (f"Along this line the cross-entropy cost bends down on <b>{ce_down:.0%}</b> of the points "
                      f"(it is convex); the squared-error cost bends down on <b>{se_down:.0%}</b>: {verdict}.")

    redraw_on([seed, span], show, text)
    return Dashboard([W.HBox([seed, span]), text, figure], controls={"seed": seed, "line_span": span},
                     figures={"costs": figure}, readout=text)


class FaceSplits:
    """The photos split into train and test sets, one split per seed, loaded once and kept on the device."""

    def __init__(self, device: torch.device, data: Split | None = None):
        self.device, self.data = device, data
        self._splits: dict[int, Split] = {}

    def __call__(self, seed: int) -> Split:
        if self.data is not None:
            return self.data.to(self.device)
        if seed not in self._splits:
            self._splits[seed] = load_faces(seed=seed).to(self.device)
        return self._splits[seed]


def learning_rate_label(config: dict) -> str:
    return f"α={config['lr']:.2g} · {config['loss'].replace('_', '-')} · split {config['seed']}"


def learning_rate_dashboard(data: Split | None = None) -> Dashboard:
    """Train logistic regression on the face photos; every change of a control starts a new run.

    Runs are overlaid on one cost plot for comparison; the latest run also shows its gradient
    magnitudes, test accuracy and the test photos it gets wrong.
    """
    device = lab_device()
    splits = FaceSplits(device, data)
    splits(0)  # load the photos now, so the first run starts at once
    controls = {
        "lr": control("lr", value=0.005, low=1e-4, high=10.0),
        "num_iterations": control("num_iterations", value=1000, low=50, high=5000),
        "loss": control("loss"),
        "seed": control("seed", label="Train/test split seed", value=0, high=20),
    }
    grads = GradientNorms("Gradient magnitude of the latest run", width=520)
    wrong = ImageGrid("Test photos the latest run gets wrong", columns=4, width=540, height=300,
                      empty_text="Every test photo is classified correctly")
    summary = readout()

    def work(run: Run, cancel):
        run.model = LogisticRegression(splits(run.config["seed"]), run.config["lr"], run.config["loss"])
        n = run.config["num_iterations"]
        yield from train(run.model, n, cancel=cancel, eval_every=max(1, n // 10))

    def show_gradients(run: Run, _items) -> None:
        if run.history.steps:
            grads.show(run.history.steps, run.history.grad_norms)

    def show_result(run: Run) -> None:
        history, split = run.history, run.model.data
        if history.diverged:
            summary.value = f"<b>{run.label}</b>: {history.diverged}"
        elif history.cancelled:
            summary.value = f"<b>{run.label}</b>: stopped after {len(history.steps)} iterations."
        else:
            m_test = split.Y_test.shape[1]
            correct = round(history.metrics["test_accuracy"] * m_test)
            summary.value = (f"<b>{run.label}</b>: final cost {history.costs[-1]:.4f}; test accuracy "
                             f"<b>{history.metrics['test_accuracy']:.1%}</b> ({correct}/{m_test} photos), "
                             f"train accuracy {history.metrics['train_accuracy']:.1%}.")
        idx = misclassified(run.model.w, run.model.b, split.X_test, split.Y_test)[:8].cpu()
        images = split.X_test[:, idx].T.reshape(-1, *split.image_shape).cpu().numpy()
        truth = split.Y_test[0, idx].cpu().long().tolist()
        wrong.show(images, [f"is {split.class_names[t]}" for t in truth])

    panel = TrainingPanel(controls, work, label=learning_rate_label, device=device,
                          costs=CostCurves("Cost J on the training photos (runs overlaid)"),
                          fixed={"data": "scikit-image lfw_subset, 75/25 train/test split"},
                          on_update=show_gradients, on_done=show_result)
    return panel.dashboard(summary, panel.costs.figure, W.HBox([grads.figure, wrong.figure]), readout=summary,
                           figures={"costs": panel.costs.figure, "gradients": grads.figure,
                                    "misclassified": wrong.figure})


def vector_learning_rate_dashboard() -> Dashboard:
    """Feature scale ratio, α and iterations → cost curves of one α, hand-set per-feature α, and RMSprop."""
    device = lab_device()
    controls = {
        "feature_scale": control("feature_scale", value=100.0, low=1.0, high=1000.0),
        "lr": control("lr", label="One shared α", value=4e-4, low=1e-5 * 1.01, high=10.0),
        "num_iterations": control("num_iterations", value=300, low=50, high=2000),
    }
    summary = readout()

    def work(run: Run, cancel):
        data = badly_scaled_split(run.config["feature_scale"], device=device)
        for label, learner in learning_rate_contenders(data, run.config["lr"]).items():
            for event in train(learner, run.config["num_iterations"], cancel=cancel):
                yield label, event

    def show_result(run: Run) -> None:
        summary.value = "Final cost — " + "; ".join(
            f"{label}: <b>{h.costs[-1]:.3f}</b>" + (" (diverged)" if h.diverged else "")
            for label, h in run.histories.items() if h.costs)

    def new_comparison(_run: Run) -> None:
        panel.costs.clear()  # a comparison is three curves: the previous three make way
        summary.value = ""

    panel = TrainingPanel(controls, work, label=lambda c: f"three learners, scale ratio {c['feature_scale']:.3g}",
                          device=device, costs=CostCurves("Cost J: one α for both weights vs a rate per weight",
                                                          max_runs=3),
                          on_start=new_comparison, on_done=show_result, train_text="Compare",
                          train_tooltip="Train the three learners with these settings")
    return panel.dashboard(summary, panel.costs.figure, readout=summary, figures={"costs": panel.costs.figure})
