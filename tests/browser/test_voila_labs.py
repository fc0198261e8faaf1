"""Each lab in Voilà: a learner moves one control, and the plot it drives shows what that control should give —
the right number of layers, the blurred photo, the box where the slider put it — not merely something new."""

from __future__ import annotations

import math
import re
import time

import pytest
from lab_pages import error_texts, screenshot, slider
from lab_servers import ARTIFACTS
from playwright.sync_api import expect
from test_voila import open_dashboard

pytestmark = pytest.mark.browser

RUN_TIMEOUT_MS = 120_000  # a training run on a busy machine

# A fingerprint of what the plot titled (title) holds and draws: trace data, shapes and annotations. For a check
# that a plot changed at all; this file's checks say how it must have changed.
FINGERPRINT_JS = """(title) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(title));
  if (!gd) return null;
  const data = gd.data.map(t => [t.name, t.x, t.y, t.z]);
  return JSON.stringify([data, gd.layout.shapes || [], (gd.layout.annotations || []).map(a => a.text)]);
}"""

# What a plotly figure holds now: its title and, per trace, its name and data (typed arrays made plain lists).
PLOT_DATA_JS = """gd => ({
  title: String((gd.layout && gd.layout.title && gd.layout.title.text) || ''),
  traces: (gd.data || []).map(t => ({
    name: t.name === undefined ? null : t.name,
    x: t.x ? Array.from(t.x) : [],
    y: t.y ? Array.from(t.y) : [],
    z: t.z ? Array.from(t.z, row => Array.from(row)) : null,
  })),
})"""


def titled(title: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(title)}")


def dashboard(page, plot: str):
    """The first dashboard (a top-level widget output) on the page with a plot whose title starts with `plot`:
    the one a learner scrolling down meets first (lab 05 has two with the same error plot)."""
    boards = page.locator(".jp-OutputArea-output > .jupyter-widgets").filter(
        has=page.locator(".js-plotly-plot .gtitle", has_text=titled(plot)))
    assert boards.count() >= 1, f"no dashboard has a plot titled {plot!r}"
    return boards.first


def plot_data(board, title: str) -> dict:
    """Title and traces of the dashboard's one plot whose title starts with `title`."""
    plots = board.locator(".js-plotly-plot").filter(has=board.page.locator(".gtitle", has_text=titled(title)))
    assert plots.count() == 1, f"{plots.count()} plots titled {title!r} in the dashboard"
    return plots.evaluate(PLOT_DATA_JS)


def trace(data: dict, name: str) -> dict:
    """The trace named `name` (or whose name starts with it: a run's legend may add a note)."""
    found = [t for t in data["traces"] if t["name"] is not None and t["name"].startswith(name)]
    assert len(found) == 1, f"{data['title']!r}: traces {[t['name'] for t in data['traces']]}, wanted {name!r}"
    return found[0]


def readout(board, label: str) -> float:
    """The number a slider shows beside it (ipywidgets writes negative numbers with a real minus sign)."""
    return float(slider(board, label).locator(".widget-readout").inner_text().replace(",", "").replace("−", "-"))


# The helpers below act in `scope`: a dashboard (a locator), or the whole page; on the first matching control.


def click_slider(scope, label: str, fraction: float, index: int = 0) -> None:
    """A learner clicks the track of the `index`-th slider labelled `label` (dashboards on one page may share
    labels) `fraction` of the way along.

    The point is placed on the track as it is at the moment of the click (Playwright waits until the track stops
    moving and checks it is what the click hits), not where it was measured: clicking page coordinates measured
    earlier let a layout change in between send the click elsewhere, and the slider never moved (lab 15's τ, once
    in a loop of browser-suite runs).

    It also waits for the slider's previous tap to end: noUiSlider marks the slider `noUi-state-tap` for 300 ms
    after a tap and ignores every press on it meanwhile, so a second click that came sooner (the kernel had
    answered the first at once) left the slider where it was, with nothing on the page to say so (lab 15's τ,
    twice in loops of browser-suite runs).
    """
    widget = slider(scope, label).nth(index)
    expect(widget.locator(".noUi-target")).not_to_have_class(re.compile(r"\bnoUi-state-tap\b"))
    track = widget.locator(".noUi-base")
    box = track.bounding_box()  # its size: the same wherever it has moved to
    track.click(position={"x": fraction * box["width"], "y": box["height"] / 2})


def choose(scope, label: str, option: str) -> None:
    page = getattr(scope, "page", scope)
    dropdown = scope.locator(".widget-dropdown").filter(has=page.locator("label", has_text=label))
    dropdown.first.locator("select").select_option(label=option)


def text_box(scope, label: str):
    label_text = re.compile(f"^{re.escape(label)}$")
    return scope.locator(".widget-text").filter(
        has=getattr(scope, "page", scope).locator("label", has_text=label_text)).first.locator("input")


def eventually(page, check, timeout: float = 60.0):
    """`check()` once it passes (the kernel's answer can come in several messages); its failure after `timeout`.

    A page read between two of those messages may lack a trace or a point, so a missing index or key, or a division
    by an empty value, is retried like a failed assertion.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, LookupError, ZeroDivisionError):
            if time.monotonic() > deadline:
                raise
        page.wait_for_timeout(300)


def finished(board, text: str) -> str:
    """Wait until the dashboard's status line says the run `text` finished; returns the line."""
    status = board.locator(".lab-status")
    expect(status).to_contain_text(f"Finished {text}", timeout=RUN_TIMEOUT_MS)
    return status.inner_text()


def close(a: float, b: float, tolerance: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


# ---------------------------------------------------------------- one learner's move per lab, and its check


def deeper_network(page):
    """04: more layers → the spread of A^[l] is drawn for each hidden layer, the gradient for every layer."""
    board = dashboard(page, "Spread of the activations")
    depth_before = readout(board, "Layers L")
    click_slider(board, "Layers L", 0.9)

    def check():
        depth = int(readout(board, "Layers L"))
        assert depth != depth_before, f"the click left L at {depth}"
        spread = trace(plot_data(board, "Spread of the activations"), "std of A^[l]")
        assert spread["x"] == list(range(1, depth)), f"L={depth}: spread drawn for layers {spread['x']}"
        assert all(v is None or v > 0 for v in spread["y"]), spread["y"]  # a log axis: positive, or a gap
        gradient = trace(plot_data(board, "Gradient size per layer"), "RMS of dW^[l]")
        assert gradient["x"] == list(range(1, depth + 1)), f"L={depth}: gradient drawn for layers {gradient['x']}"
        assert f"of A^[{depth - 1}]" in board.inner_text(), "the readout names another last hidden layer"
        return depth

    eventually(page, check)
    return board


def stronger_l2(page):
    """05: λ up → a run labelled with that λ; its train and dev error curves end where the status line says."""
    board = dashboard(page, "Error rate: train vs dev")
    lambd_before = readout(board, "L2 strength λ")
    click_slider(board, "L2 strength λ", 0.3)
    lambd = readout(board, "L2 strength λ")
    assert lambd != lambd_before, f"the click left λ at {lambd}"
    line = finished(board, f"λ={lambd:.2g} · ")
    accuracy = re.search(r"train accuracy ([\d.]+)%.*dev accuracy ([\d.]+)%", line)
    assert accuracy, line
    iterations = int(readout(board, "Iterations"))

    def check():
        errors = plot_data(board, "Error rate: train vs dev")
        train, dev = trace(errors, "train"), trace(errors, "dev")
        assert train["x"] == dev["x"] and len(train["x"]) >= 10, (train["x"], dev["x"])
        assert train["x"][-1] == iterations, f"curves end at {train['x'][-1]}, the run had {iterations} iterations"
        assert all(v is not None and 0 <= v <= 100 for v in train["y"] + dev["y"]), "error rates outside 0–100 %"
        # the error rate at the end is what the status line reports as accuracy, to its rounding
        assert abs(train["y"][-1] - (100 - float(accuracy[1]))) <= 0.051, (train["y"][-1], line)
        assert abs(dev["y"][-1] - (100 - float(accuracy[2]))) <= 0.051, (dev["y"][-1], line)

    eventually(page, check)
    return board


def adam(page):
    """07: Adam → one more cost curve, named for Adam and its settings, over every mini-batch of every epoch;
    without decay its learning rate stays α in every epoch."""
    board = dashboard(page, "Mini-batch cost J: update rules compared")
    runs_before = len(plot_data(board, "Mini-batch cost J")["traces"])
    choose(board, "Optimizer", "adam")
    line = finished(board, "Adam ")
    run = re.search(r"Finished (Adam α=([\d.e+-]+)[^:]*): (\d+) iterations", line)
    assert run, line
    label, alpha, iterations = run[1], float(run[2]), int(run[3])
    epochs = readout(board, "Epochs")

    def check():
        costs = plot_data(board, "Mini-batch cost J")
        assert len(costs["traces"]) == runs_before + 1, [t["name"] for t in costs["traces"]]
        curve = trace(costs, label)
        assert len(curve["x"]) == iterations, f"{len(curve['x'])} points for {iterations} mini-batch steps"
        assert curve["x"] == sorted(curve["x"]) and close(curve["x"][-1], epochs), curve["x"][-3:]
        assert all(v is not None and v > 0 and math.isfinite(v) for v in curve["y"]), curve["y"][:5]
        rates = trace(plot_data(board, "Learning rate α in each epoch"), label)
        assert rates["y"] and all(close(v, alpha, 1e-6) for v in rates["y"]), f"α={alpha}, drawn {rates['y']}"

    eventually(page, check)
    return board


def box_blur(page):
    """12: the box-blur preset → each output pixel is the mean of the 3 × 3 input pixels under the filter
    (the input as shown, padded), at the stride set, and the title gives the output's size."""
    board = dashboard(page, "Output:")
    before = trace_z(plot_data(board, "Output:"))
    choose(board, "Filter preset", "box blur")
    stride = int(readout(board, "Stride s"))

    def check():
        shown_input, output = trace_z(plot_data(board, "Input:")), plot_data(board, "Output:")
        out = trace_z(output)
        assert out != before, "the output did not change"
        rows, cols = (len(shown_input) - 3) // stride + 1, (len(shown_input[0]) - 3) // stride + 1
        assert (len(out), len(out[0])) == (rows, cols), f"output {len(out)} × {len(out[0])}, expected {rows} × {cols}"
        assert output["title"] == f"Output: {rows} × {cols}", output["title"]
        worst = max(abs(out[i][j] - sum(shown_input[i * stride + a][j * stride + b]
                                         for a in range(3) for b in range(3)) / 9)
                    for i in range(rows) for j in range(cols))
        assert worst <= 0.0015, f"an output pixel is {worst:.4f} away from the mean of its 3 × 3 window"

    eventually(page, check)
    return board


def trace_z(data: dict) -> list[list[float]]:
    assert len(data["traces"]) == 1 and data["traces"][0]["z"], f"{data['title']!r} is not one image"
    return data["traces"][0]["z"]


def move_box_b(page):
    """14: box B's left edge → box B drawn there, the overlap drawn where the two boxes meet, the IoU read out."""
    board = dashboard(page, "Box A, box B and their overlap")
    x_before = readout(board, "Box B: left edge x")
    click_slider(board, "Box B: left edge x", 0.1)

    def check():
        x = readout(board, "Box B: left edge x")
        assert x != x_before, f"the click left box B at x = {x}"
        y, w, h = (readout(board, f"Box B: {name}") for name in ("top edge y", "width", "height"))
        boxes = plot_data(board, "Box A, box B and their overlap")
        b = trace(boxes, "box B")
        assert (b["x"], b["y"]) == ([x, x + w, x + w, x, x], [y, y, y + h, y + h, y]), f"box B drawn at {b}"
        a = trace(boxes, "box A")
        ax1, ax2, ay1, ay2 = min(a["x"]), max(a["x"]), min(a["y"]), max(a["y"])
        ix1, iy1, ix2, iy2 = max(ax1, x), max(ay1, y), min(ax2, x + w), min(ay2, y + h)
        overlap = trace(boxes, "overlap")
        intersection = max(0.0, ix2 - ix1) * max(0.0, iy2 - iy1)
        if intersection > 0:
            assert (overlap["x"], overlap["y"]) == ([ix1, ix2, ix2, ix1, ix1], [iy1, iy1, iy2, iy2, iy1]), overlap
        else:
            assert overlap["x"] == [], f"boxes apart, yet an overlap is drawn: {overlap}"
        iou = intersection / ((ax2 - ax1) * (ay2 - ay1) + w * h - intersection)
        assert f"IoU = {iou:.3f}" in board.inner_text(), f"IoU {iou:.3f} not read out"

    eventually(page, check)
    return board


def king_and_cold(page):
    """18: Word 2 = cold → the learner's bar is the pair 'king · cold' at its cosine, which the text reads out."""
    board = dashboard(page, "Cosine similarity")
    before = plot_data(board, "Cosine similarity")
    first = text_box(board, "Word 1").input_value().strip().lower()
    box = text_box(board, "Word 2")
    box.fill("cold")
    box.press("Enter")

    def check():
        data = plot_data(board, "Cosine similarity")
        pair = trace(data, "your pair")
        assert pair["y"] == [f"{first} · cold"], f"the learner's bar is {pair['y']}"
        assert len(pair["x"]) == 1 and -1 <= pair["x"][0] <= 1, pair["x"]
        assert pair["x"] != trace(before, "your pair")["x"], "the cosine did not change"
        assert trace(data, "reference pairs") == trace(before, "reference pairs"), "the reference pairs moved"
        assert f"= {pair['x'][0]:.3f}" in board.inner_text(), f"cosine {pair['x'][0]:.3f} not read out"

    eventually(page, check)
    return board


CASES = {
    "04_deep_networks_initialization.ipynb": deeper_network,
    "05_bias_variance_regularization.ipynb": stronger_l2,
    "07_optimization.ipynb": adam,
    "12_convolutions.ipynb": box_blur,
    "14_object_detection_yolo.ipynb": move_box_b,
    "18_word_embeddings.ipynb": king_and_cold,
}


@pytest.mark.parametrize("name", list(CASES), ids=[name.split("_")[0] for name in CASES])
def test_moving_a_control_redraws_its_plot_correctly(page, voila_url, name):
    open_dashboard(page, voila_url, name)
    board = CASES[name](page)
    assert error_texts(page) == [] and page.errors.items == []
    board.scroll_into_view_if_needed()
    screenshot(page, ARTIFACTS / f"voila-{name.removesuffix('.ipynb')}-moved.png")
