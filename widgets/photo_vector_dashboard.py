"""A photo becomes a feature vector: pick a training photo, see its pixels unrolled into one column of X."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go

from lab.data import Split, load_faces
from widgets.controls import control
from widgets.dashboard import Dashboard, readout
from widgets.guard import guarded, show_error_in
from widgets.views.figure import PALETTE, make_figure


def photo_vector_dashboard(data: Split | None = None) -> Dashboard:
    """Slider over the training photos → the photo, its 625 pixel values as a vector, and the shapes."""
    data = data or load_faces()
    X, Y = data.X_train.cpu(), data.Y_train.cpu()  # (n, m), (1, m)
    n, m = X.shape
    h, w = data.image_shape
    index = control("example_index", value=0, high=m - 1, continuous_update=True)
    index.description = "Training photo #"

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

    show = guarded(show, show_error_in(shapes))
    index.observe(show, names="value")
    show()
    return Dashboard([index, shapes, W.HBox([photo, vector])], controls={"example_index": index},
                     figures={"photo": photo, "vector": vector}, readout=shapes)
