"""Object detection: IoU of two boxes, sliding windows against one YOLO pass, and a YOLO detector whose
real predictions are thresholded and suppressed live."""

from __future__ import annotations

import html
import threading

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.detection import decode_yolo, non_max_suppression, overlap, score_filter
from lab.device import describe_device
from lab.history import RunHistory
from lab.params import validate
from lab.training import DoneEvent, EvalEvent, train
from lab.yolo import (
    ANCHOR_NAMES,
    CLASS_NAMES,
    DetectorConfig,
    DetectorTraining,
    assign,
    compare_sliding_windows,
    make_detector,
    sliding_window_boxes,
    slot_boxes,
    test_scenes,
)
from widgets.controls import LABEL_STYLE, button, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout
from widgets.guard import guarded, show_error_in
from widgets.runner import Runner, wire_training
from widgets.status import StatusLine
from widgets.views.boxes import BoxesView, grid_segments
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, make_figure

CLASS_COLOURS = (PALETTE[0], PALETTE[1], PALETTE[2])  # rectangle, ellipse, triangle
TRUTH_COLOUR, ANCHOR_COLOUR, GRID_COLOUR = PALETTE[7], PALETTE[3], "rgba(255,255,255,0.8)"


def _rectangle(box) -> tuple[list[float], list[float]]:
    x1, y1, x2, y2 = box
    return [x1, x2, x2, x1, x1], [y1, y1, y2, y2, y1]


def iou_dashboard() -> Dashboard:
    """Two boxes moved by sliders; the overlap is shaded and the IoU read out."""
    names = {"a_x": ("box_x", 20.0, "Box A: left edge x"), "a_y": ("box_y", 20.0, "Box A: top edge y"),
             "b_x": ("box_x", 40.0, "Box B: left edge x"), "b_y": ("box_y", 35.0, "Box B: top edge y"),
             "b_width": ("box_width", 40.0, "Box B: width"), "b_height": ("box_height", 40.0, "Box B: height")}
    controls = {}
    for key, (param, value, label) in names.items():
        controls[key] = control(param, value=value, continuous_update=True)
        controls[key].description = label
    size_a = 40.0
    figure = make_figure("Box A, box B and their overlap", height=460, width=480)
    figure.update_xaxes(range=[0, 125], title={"text": "x (pixels)"}, constrain="domain")
    figure.update_yaxes(range=[125, 0], title={"text": "y (pixels, downwards)"}, scaleanchor="x")
    for name, colour, fill in (("box A", PALETTE[0], "rgba(0,114,178,0.15)"),
                               ("box B", PALETTE[1], "rgba(230,159,0,0.15)"),
                               ("overlap (intersection)", PALETTE[5], "rgba(213,94,0,0.55)")):
        figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, fill="toself", fillcolor=fill,
                                    line={"color": colour, "width": 2.5}, hoverinfo="name"))
    text = readout()

    def boxes():
        a_x, a_y = controls["a_x"].value, controls["a_y"].value
        a = (a_x, a_y, a_x + size_a, a_y + size_a)
        b = (controls["b_x"].value, controls["b_y"].value, controls["b_x"].value + controls["b_width"].value,
             controls["b_y"].value + controls["b_height"].value)
        return a, b

    def show(*_) -> None:
        a, b = boxes()
        result = overlap(torch.tensor(a), torch.tensor(b))
        with figure.batch_update():
            figure.data[0].x, figure.data[0].y = _rectangle(a)
            figure.data[1].x, figure.data[1].y = _rectangle(b)
            figure.data[2].x, figure.data[2].y = _rectangle(result.box) if result.box else ([], [])
        verdict = ("non-max suppression at the usual IoU threshold 0.5 would <b>drop the lower-scoring box</b>"
                   if result.iou > 0.5 else "non-max suppression at the usual IoU threshold 0.5 would <b>keep both</b>")
        text.value = (f"Intersection {result.intersection:,.0f} px² ÷ union {result.union:,.0f} px² → "
                      f"<b>IoU = {result.iou:.3f}</b>; {verdict}.")

    show = guarded(show, show_error_in(text))
    for widget in controls.values():
        widget.observe(show, names="value")
    show()
    return Dashboard([W.HBox([W.VBox(list(controls.values())), figure]), text], controls=controls,
                     figures={"boxes": figure}, readout=text)


def sliding_windows_dashboard(scene: int = 0) -> Dashboard:
    """Count and time a sliding-window search against one YOLO pass over the same 64 × 64 scene."""
    device = lab_device()
    scenes = test_scenes()
    size, window_sizes = scenes.config.image_size, (16, 32, 48)
    model = make_detector(DetectorConfig()).to(device)  # untrained: the time does not depend on the weights
    image = scenes.images[scene:scene + 1].to(device)
    stride = control("window_stride", value=4)
    windows_view = BoxesView("Sliding windows", size, width=380, height=400)
    windows_view.add_layer("windows", PALETTE[4], width=1, legend=False)
    yolo_view = BoxesView("One YOLO pass: a 4 × 4 grid", size, width=380, height=400)
    yolo_view.add_layer("grid", GRID_COLOUR, width=2, legend=False)
    photo = scenes.images[scene].permute(1, 2, 0).numpy()
    windows_view.show_image(photo)
    yolo_view.show_image(photo)
    yolo_view.set_lines("grid", grid_segments(size, scenes.config.grid_size) + [(0, 0, size, 0), (0, size, size, size),
                                                                              (0, 0, 0, size), (size, 0, size, size)])
    bars = make_figure("Work for one image", "", "", height=400, width=340)
    bars.add_trace(go.Bar(x=["sliding windows", "YOLO"], y=[0, 1], name="network evaluations",
                          marker={"color": [PALETTE[4], PALETTE[0]]}, text=["", ""], textposition="outside"))
    bars.update_yaxes(type="log", title={"text": "network evaluations (log scale)"})
    bars.update_layout(showlegend=False)
    text = readout()

    def show(*_) -> None:
        s = stride.value
        boxes = sliding_window_boxes(size, window_sizes, s)
        cost = compare_sliding_windows(model, image, s, window_sizes)
        ratio = cost.window_seconds / cost.yolo_seconds
        with windows_view.figure.batch_update():
            windows_view.set_boxes("windows", boxes.tolist())
            windows_view.figure.layout.title.text = f"Sliding windows: {cost.windows:,} crops"
        with bars.batch_update():
            bars.data[0].y = [cost.windows, 1]
            bars.data[0].text = [f"{cost.windows:,} crops<br>{cost.window_seconds * 1e3:.1f} ms",
                                 f"1 pass<br>{cost.yolo_seconds * 1e3:.1f} ms"]
        text.value = (f"Windows of {', '.join(map(str, window_sizes))} px moved {s} px at a time: "
                      f"<b>{cost.windows:,}</b> crops through the network in "
                      f"<b>{cost.window_seconds * 1e3:.1f} ms</b>. "
                      f"YOLO: <b>1</b> pass over the whole image predicts {cost.yolo_slots} boxes in "
                      f"<b>{cost.yolo_seconds * 1e3:.1f} ms</b>, {ratio:.0f}× faster "
                      f"(best of 3 timings on {html.escape(describe_device(device))}).")

    show = guarded(show, show_error_in(text))
    stride.observe(show, names="value")
    show()
    return Dashboard([device_badge(device), stride, text, W.HBox([windows_view.figure, yolo_view.figure, bars])],
                     controls={"window_stride": stride},
                     figures={"windows": windows_view.figure, "yolo": yolo_view.figure, "bars": bars}, readout=text)


def _boxes_view(title: str, size: int) -> BoxesView:
    view = BoxesView(title, size, width=430, height=480)
    view.add_layer("grid", GRID_COLOUR, width=1.5, legend=False)
    view.add_layer("responsible cell", "rgba(204,121,167,0.9)", width=1, fill="rgba(204,121,167,0.30)")
    view.add_layer("assigned anchor", ANCHOR_COLOUR, dash="dash", width=2, labels=True)
    view.add_layer("ground truth", TRUTH_COLOUR, dash="dot", width=2)
    for name, colour in zip(CLASS_NAMES, CLASS_COLOURS, strict=True):
        view.add_layer(name, colour, width=2.5, labels=True)
    return view


def detector_dashboard(config: DetectorConfig | None = None, num_steps: int | None = None) -> Dashboard:
    """Train a small YOLO detector from scratch; then threshold and suppress its real predictions live.

    Nothing trains until Train is pressed. Until then the scenes show their ground truth, the grid and the
    anchor each object is assigned to (all known without a network), and the readout asks for training.
    """
    device = lab_device()
    config = config or DetectorConfig()
    scenes = test_scenes(config.num_test, config.test_seed, config.scenes)
    size, S = config.scenes.image_size, config.scenes.grid_size
    controls = {
        "detector_steps": control("detector_steps", value=num_steps or 600),
        "scene": control("example_index", value=0, low=0, high=len(scenes) - 1, continuous_update=True),
        "score_threshold": control("score_threshold", continuous_update=True),
        "iou_threshold": control("iou_threshold", continuous_update=True),
        "show_grid": W.Checkbox(value=True, description="Show the grid", tooltip="Draw the S × S grid cells",
                                style=LABEL_STYLE, indent=False),
        "show_anchors": W.Checkbox(value=True, description="Show each object's cell and anchor",
                                   tooltip="Shade the cell that holds each object's centre and draw the anchor "
                                           "shape that best fits it", style=LABEL_STYLE, indent=False),
    }
    controls["scene"].description = "Held-out scene"
    train_button = button("Train", "Train the detector from scratch with the chosen number of steps", "primary")
    stop_button = button("Stop", "Stop training now; the predictions are those of the network so far", "warning")
    before = _boxes_view("Before non-max suppression", size)
    after = _boxes_view("After non-max suppression", size)
    costs = CostCurves("YOLO loss on each mini-batch", x_title="step", max_runs=3, height=300)
    status = StatusLine("Press Train to train the detector.")
    summary, text, assignment = readout(), readout(), readout()
    state: dict = {"task": None, "predictions": None, "decoded": {}, "history": None}
    lock = threading.Lock()  # slider moves (UI thread) and training updates (runner thread) both redraw

    def show_scene(n: int) -> None:
        """What is known without a network: photo, ground truth, grid and the anchor assignment."""
        truth, classes = scenes.objects(n)
        slots, ious = assign(truth, config.scenes)
        cells, anchors = slot_boxes(slots, config.scenes)
        names = [f"anchor {a + 1} ({ANCHOR_NAMES[a]})" for _, _, a in slots.tolist()]
        photo = scenes.images[n].permute(1, 2, 0).numpy()
        for view in (before, after):
            view.show_image(photo)
            view.set_lines("grid", grid_segments(size, S))
            view.set_boxes("ground truth", truth.tolist())
            view.set_boxes("responsible cell", cells.tolist())
            view.set_boxes("assigned anchor", anchors.tolist(), names)
        rows = "".join(
            f"<li>{'an' if CLASS_NAMES[c][0] in 'aeiou' else 'a'} {CLASS_NAMES[c]} centred in cell "
            f"(row {i + 1}, column {j + 1}) goes to <b>anchor {a + 1} "
            f"({ANCHOR_NAMES[a]})</b>: IoU with the anchor shapes "
            + " / ".join(f"{v:.2f}" for v in iou) + "</li>"
            for (i, j, a), c, iou in zip(slots.tolist(), classes.tolist(), ious.tolist(), strict=True))
        assignment.value = f"<b>Who is responsible for each object</b> (the training targets):<ul>{rows}</ul>"

    def show_predictions(n: int) -> None:
        score_t, iou_t = controls["score_threshold"].value, controls["iou_threshold"].value
        predictions = state["predictions"]
        truth, _ = scenes.objects(n)
        if predictions is None:
            for view in (before, after):
                for name in CLASS_NAMES:
                    view.set_boxes(name, [])
                view.note("Train the detector first")
            text.value = (f"Scene {n} holds {len(truth)} object{'s' if len(truth) != 1 else ''} (dotted yellow). "
                          "<b>Train the detector first</b>: there are no predictions to threshold yet. The grid "
                          "and the anchor each object is assigned to are already known — they come from the "
                          "ground truth, and they are what the network is trained to predict.")
            return
        if n not in state["decoded"]:  # decode a scene once; a slider move only thresholds and suppresses
            state["decoded"][n] = decode_yolo(predictions[n], image_size=size)
        kept_before = score_filter(state["decoded"][n], score_t)
        kept_after = non_max_suppression(kept_before, iou_t)
        for view, found in ((before, kept_before), (after, kept_after)):
            view.note("")
            for c, name in enumerate(CLASS_NAMES):
                mine = found.classes == c
                view.set_boxes(name, found.boxes[mine].tolist(),
                               [f"{name} {s:.2f}" for s in found.scores[mine].tolist()])
        before.figure.layout.title.text = f"Before non-max suppression: {len(kept_before)} boxes"
        after.figure.layout.title.text = f"After non-max suppression: {len(kept_after)} boxes"
        total = predictions[n].shape[0] * predictions[n].shape[1] * predictions[n].shape[2]
        text.value = (f"Scene {n}: {len(truth)} object{'s' if len(truth) != 1 else ''} (dotted yellow). "
                      f"<b>{len(kept_before)}</b> of the {total} predicted boxes score ≥ {score_t:.2f} "
                      f"(score = p_c × class probability); non-max suppression at IoU {iou_t:.2f} keeps "
                      f"<b>{len(kept_after)}</b>.")

    def redraw(*_) -> None:
        with lock:
            n = validate("example_index", controls["scene"].value)
            with before.figure.batch_update(), after.figure.batch_update():
                show_scene(n)
                show_predictions(n)
                for view in (before, after):
                    view.set_visible("grid", controls["show_grid"].value)
                    view.set_visible("responsible cell", controls["show_anchors"].value)
                    view.set_visible("assigned anchor", controls["show_anchors"].value)
            assignment.layout.display = None if controls["show_anchors"].value else "none"

    def redraw_predictions(*_) -> None:  # the thresholds change only the predicted boxes
        with lock, before.figure.batch_update(), after.figure.batch_update():
            show_predictions(validate("example_index", controls["scene"].value))

    def on_batch(items) -> None:
        label = items[-1][0]
        history = state["history"]
        for _, event in items:
            history.record(event)
        costs.update_run(label, history.steps, history.costs, note="diverged" if history.diverged else "")
        if any(isinstance(event, (EvalEvent, DoneEvent)) for _, event in items):
            predictions = state["task"].predict(scenes.images).cpu()  # (N, S, S, A, 5 + C)
            with lock:
                state["predictions"], state["decoded"] = predictions, {}
            redraw_predictions()
        last = items[-1][1]
        if isinstance(last, DoneEvent):
            m = history.metrics
            done = "stopped after" if last.cancelled else "trained for"
            summary.value = (f"The detector {done} <b>{last.steps}</b> steps ({last.steps * config.batch_size:,} "
                             f"scenes) in <b>{last.seconds:.1f} s</b>."
                             + (f" On {len(scenes)} held-out scenes: <b>mAP@0.5 = {m['test_mAP_at_IoU_0.5']:.2f}</b>; "
                                f"keeping boxes with score ≥ 0.5 after NMS at IoU 0.5 finds "
                                f"<b>{m['test_recall']:.0%}</b> of the objects (recall) and "
                                f"<b>{m['test_precision']:.0%}</b> of its boxes are right (precision)."
                                if m else ""))

    runner = Runner(status, on_batch, device_text=describe_device(device))

    def start(*_) -> None:
        steps = validate("detector_steps", controls["detector_steps"].value)
        task = DetectorTraining(config, device)
        label = f"{steps} steps · lr {config.lr:g} · seed {config.seed}"

        def setup() -> None:
            state["task"], state["history"] = task, RunHistory(label, {"steps": steps, "lr": config.lr,
                                                                       "batch_size": config.batch_size,
                                                                       "seed": config.seed})
            costs.add_run(label)

        def work(cancel):
            for event in train(task, steps, eval_every=max(50, steps // 6), cancel=cancel, blowup_ratio=None):
                yield label, event
        runner.start(work, label, setup)

    show_error = show_error_in(text)
    wire_training(runner, start, train_button, stop_button)
    for name in ("scene", "show_grid", "show_anchors"):
        controls[name].observe(guarded(redraw, show_error), names="value")
    for name in ("score_threshold", "iou_threshold"):
        controls[name].observe(guarded(redraw_predictions, show_error), names="value")
    redraw()

    return Dashboard(
        [device_badge(device),
         W.HBox([controls["detector_steps"], train_button, stop_button]), status.widget, summary,
         W.HBox([W.VBox([controls["score_threshold"], controls["iou_threshold"], controls["scene"]]),
                 W.VBox([controls["show_grid"], controls["show_anchors"]])]),
         text, W.HBox([before.figure, after.figure]), assignment, costs.figure],
        controls={**controls, "train": train_button, "stop": stop_button},
        figures={"before": before.figure, "after": after.figure, "costs": costs.figure},
        status=status, runner=runner, readout=text)
