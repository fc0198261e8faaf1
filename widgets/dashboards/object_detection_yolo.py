"""Lab 14, object detection: IoU of two boxes, sliding windows against one YOLO pass, and a YOLO detector whose
real predictions are thresholded and suppressed live."""

from __future__ import annotations

import html
import threading

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data.scenes import ANCHOR_NAMES, CLASS_NAMES, SceneConfig, Scenes, test_scenes
from lab.detection import Detections, decode_yolo, non_max_suppression, overlap, score_filter
from lab.device import describe_device
from lab.params import validate
from lab.training import DoneEvent, EvalEvent, train
from lab.yolo import (
    DetectorConfig,
    DetectorTraining,
    assign,
    compare_sliding_windows,
    make_detector,
    sliding_window_boxes,
    slot_boxes,
)
from widgets.controls import checkbox, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout, redraw_on
from widgets.guard import guarded, show_error_in
from widgets.training_panel import Run, TrainingPanel
from widgets.views.boxes import BoxesView, grid_segments
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, make_figure

CLASS_COLOURS = (PALETTE[0], PALETTE[1], PALETTE[2])  # rectangle, ellipse, triangle
TRUTH_COLOUR, ANCHOR_COLOUR, GRID_COLOUR = PALETTE[7], PALETTE[3], "rgba(255,255,255,0.8)"
BOX_A_SIDE = 40.0  # box A of the IoU explorer is a fixed 40 × 40 square; its corner moves
WINDOW_SIZES = (16, 32, 48)  # sides of the sliding windows, in pixels


def _rectangle(box) -> tuple[list[float], list[float]]:
    x1, y1, x2, y2 = box
    return [x1, x2, x2, x1, x1], [y1, y1, y2, y2, y1]


def _iou_figure() -> go.FigureWidget:
    figure = make_figure("Box A, box B and their overlap", height=460, width=480)
    figure.update_xaxes(range=[0, 125], title={"text": "x (pixels)"}, constrain="domain")
    figure.update_yaxes(range=[125, 0], title={"text": "y (pixels, downwards)"}, scaleanchor="x")
    for name, colour, fill in (("box A", PALETTE[0], "rgba(0,114,178,0.15)"),
                               ("box B", PALETTE[1], "rgba(230,159,0,0.15)"),
                               ("overlap (intersection)", PALETTE[5], "rgba(213,94,0,0.55)")):
        figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, fill="toself", fillcolor=fill,
                                    line={"color": colour, "width": 2.5}, hoverinfo="name"))
    return figure


def iou_dashboard() -> Dashboard:
    """Two boxes moved by sliders; the overlap is shaded and the IoU read out."""
    controls = {
        "a_x": control("box_x", label="Box A: left edge x", value=20.0, continuous_update=True),
        "a_y": control("box_y", label="Box A: top edge y", value=20.0, continuous_update=True),
        "b_x": control("box_x", label="Box B: left edge x", value=40.0, continuous_update=True),
        "b_y": control("box_y", label="Box B: top edge y", value=35.0, continuous_update=True),
        "b_width": control("box_width", label="Box B: width", value=40.0, continuous_update=True),
        "b_height": control("box_height", label="Box B: height", value=40.0, continuous_update=True),
    }
    figure = _iou_figure()
    text = readout()

    def show(*_) -> None:
        v = {name: widget.value for name, widget in controls.items()}
        a = (v["a_x"], v["a_y"], v["a_x"] + BOX_A_SIDE, v["a_y"] + BOX_A_SIDE)
        b = (v["b_x"], v["b_y"], v["b_x"] + v["b_width"], v["b_y"] + v["b_height"])
        result = overlap(torch.tensor(a), torch.tensor(b))
        with figure.batch_update():
            figure.data[0].x, figure.data[0].y = _rectangle(a)
            figure.data[1].x, figure.data[1].y = _rectangle(b)
            figure.data[2].x, figure.data[2].y = _rectangle(result.box) if result.box else ([], [])
        verdict = ("non-max suppression at the usual IoU threshold 0.5 would <b>drop the lower-scoring box</b>"
                   if result.iou > 0.5 else "non-max suppression at the usual IoU threshold 0.5 would <b>keep both</b>")
        text.value = (f"Intersection {result.intersection:,.0f} px² ÷ union {result.union:,.0f} px² → "
                      f"<b>IoU = {result.iou:.3f}</b>; {verdict}.")

    redraw_on(controls.values(), show, text)
    return Dashboard([W.HBox([W.VBox(list(controls.values())), figure]), text], controls=controls,
                     figures={"boxes": figure}, readout=text)


def _scene_views(scenes: Scenes, scene: int) -> tuple[BoxesView, BoxesView]:
    """The scene twice: under the sliding windows, and cut by YOLO's grid."""
    size = scenes.config.image_size
    windows = BoxesView("Sliding windows", size, width=380, height=400)
    windows.add_layer("windows", PALETTE[4], width=1, legend=False)
    yolo = BoxesView("One YOLO pass: a 4 × 4 grid", size, width=380, height=400)
    yolo.add_layer("grid", GRID_COLOUR, width=2, legend=False)
    photo = scenes.images[scene].permute(1, 2, 0).numpy()  # (H, W, 3)
    windows.show_image(photo)
    yolo.show_image(photo)
    frame = [(0, 0, size, 0), (0, size, size, size), (0, 0, 0, size), (size, 0, size, size)]
    yolo.set_lines("grid", grid_segments(size, scenes.config.grid_size) + frame)
    return windows, yolo


def _work_bars() -> go.FigureWidget:
    bars = make_figure("Work for one image", "", "", height=400, width=340)
    bars.add_trace(go.Bar(x=["sliding windows", "YOLO"], y=[0, 1], name="network evaluations",
                          marker={"color": [PALETTE[4], PALETTE[0]]}, text=["", ""], textposition="outside"))
    bars.update_yaxes(type="log", title={"text": "network evaluations (log scale)"})
    bars.update_layout(showlegend=False)
    return bars


def sliding_windows_dashboard(scene: int = 0) -> Dashboard:
    """Count and time a sliding-window search against one YOLO pass over the same 64 × 64 scene."""
    device = lab_device()
    scenes = test_scenes()
    size = scenes.config.image_size
    model = make_detector(DetectorConfig()).to(device)  # untrained: the time does not depend on the weights
    image = scenes.images[scene:scene + 1].to(device)  # (1, 3, H, W)
    stride = control("window_stride", value=4)
    windows_view, yolo_view = _scene_views(scenes, scene)
    bars = _work_bars()
    text = readout()

    def show(*_) -> None:
        s = stride.value
        windows = sliding_window_boxes(size, WINDOW_SIZES, s)
        # the windows first: the timing below runs the network over every crop (3 times), which the picture of
        # the windows need not wait for
        with windows_view.figure.batch_update():
            windows_view.set_boxes("windows", windows.tolist())
            windows_view.figure.layout.title.text = f"Sliding windows: {len(windows):,} crops"
        cost = compare_sliding_windows(model, image, s, WINDOW_SIZES)
        ratio = cost.window_seconds / cost.yolo_seconds
        with bars.batch_update():
            bars.data[0].y = [cost.windows, 1]
            bars.data[0].text = [f"{cost.windows:,} crops<br>{cost.window_seconds * 1e3:.1f} ms",
                                 f"1 pass<br>{cost.yolo_seconds * 1e3:.1f} ms"]
        text.value = (f"Windows of {', '.join(map(str, WINDOW_SIZES))} px moved {s} px at a time: "
                      f"<b>{cost.windows:,}</b> crops through the network in "
                      f"<b>{cost.window_seconds * 1e3:.1f} ms</b>. "
                      f"YOLO: <b>1</b> pass over the whole image predicts {cost.yolo_slots} boxes in "
                      f"<b>{cost.yolo_seconds * 1e3:.1f} ms</b>, {ratio:.0f}× faster "
                      f"(best of 3 timings on {html.escape(describe_device(device))}).")

    redraw_on([stride], show, text)
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


def _objects(k: int) -> str:
    return f"{k} object{'s' if k != 1 else ''}"


class DetectionPanels:
    """A held-out scene before and after non-max suppression, and the two text lines that describe it.

    Before training it shows what is known without a network (photo, ground truth, grid, each object's cell
    and anchor); once the network has predicted, also its boxes that pass the score threshold and NMS.
    Slider moves (UI thread) and training updates (runner thread) both redraw: a lock keeps them apart.
    """

    def __init__(self, scenes: Scenes, config: SceneConfig):
        self.scenes, self.config = scenes, config
        self.before = _boxes_view("Before non-max suppression", config.image_size)
        self.after = _boxes_view("After non-max suppression", config.image_size)
        self.text, self.assignment = readout(), readout()
        self.assignment.layout = W.Layout(margin="4px 0")  # its own: it is shown and hidden (widgets.shared_looks)
        self.predictions: torch.Tensor | None = None  # (N, S, S, A, 5 + C) on the CPU; None before training
        self._decoded: dict[int, Detections] = {}  # scene → its decoded boxes: a slider move only thresholds
        self._lock = threading.Lock()

    def set_predictions(self, predictions: torch.Tensor) -> None:
        with self._lock:
            self.predictions, self._decoded = predictions, {}

    def redraw(self, n: int, score_threshold: float, iou_threshold: float, *, grid: bool, anchors: bool) -> None:
        """Scene `n` from scratch; `grid` and `anchors` show or hide the grid and each object's cell and anchor."""
        with self._lock, self.before.figure.batch_update(), self.after.figure.batch_update():
            self._show_scene(n)
            self._show_predictions(n, score_threshold, iou_threshold)
            for view in (self.before, self.after):
                view.set_visible("grid", grid)
                view.set_visible("responsible cell", anchors)
                view.set_visible("assigned anchor", anchors)
        self.assignment.layout.display = None if anchors else "none"

    def redraw_predictions(self, n: int, score_threshold: float, iou_threshold: float) -> None:
        """Only the predicted boxes of scene `n`, for new thresholds or a new network."""
        with self._lock, self.before.figure.batch_update(), self.after.figure.batch_update():
            self._show_predictions(n, score_threshold, iou_threshold)

    def _show_scene(self, n: int) -> None:
        truth, classes = self.scenes.objects(n)
        slots, ious = assign(truth, self.config)
        cells, anchors = slot_boxes(slots, self.config)
        names = [f"anchor {a + 1} ({ANCHOR_NAMES[a]})" for _, _, a in slots.tolist()]
        photo = self.scenes.images[n].permute(1, 2, 0).numpy()  # (H, W, 3)
        for view in (self.before, self.after):
            view.show_image(photo)
            view.set_lines("grid", grid_segments(self.config.image_size, self.config.grid_size))
            view.set_boxes("ground truth", truth.tolist())
            view.set_boxes("responsible cell", cells.tolist())
            view.set_boxes("assigned anchor", anchors.tolist(), names)
        rows = "".join(
            f"<li>{'an' if CLASS_NAMES[c][0] in 'aeiou' else 'a'} {CLASS_NAMES[c]} centred in cell "
            f"(row {i + 1}, column {j + 1}) goes to <b>anchor {a + 1} "
            f"({ANCHOR_NAMES[a]})</b>: IoU with the anchor shapes "
            + " / ".join(f"{v:.2f}" for v in iou) + "</li>"
            for (i, j, a), c, iou in zip(slots.tolist(), classes.tolist(), ious.tolist(), strict=True))
        self.assignment.value = f"<b>Who is responsible for each object</b> (the training targets):<ul>{rows}</ul>"

    def _show_predictions(self, n: int, score_threshold: float, iou_threshold: float) -> None:
        objects = _objects(len(self.scenes.objects(n)[0]))
        if self.predictions is None:
            for view in (self.before, self.after):
                for name in CLASS_NAMES:
                    view.set_boxes(name, [])
                view.note("Train the detector first")
            self.text.value = (f"Scene {n} holds {objects} (dotted yellow). <b>Train the detector first</b>: "
                               "there are no predictions to threshold yet. The grid and the anchor each object is "
                               "assigned to are already known — they come from the ground truth, and they are what "
                               "the network is trained to predict.")
            return
        if n not in self._decoded:  # decode a scene once; a slider move only thresholds and suppresses
            self._decoded[n] = decode_yolo(self.predictions[n], image_size=self.config.image_size)
        kept_before = score_filter(self._decoded[n], score_threshold)
        kept_after = non_max_suppression(kept_before, iou_threshold)
        for view, found in ((self.before, kept_before), (self.after, kept_after)):
            view.note("")
            for c, name in enumerate(CLASS_NAMES):
                mine = found.classes == c
                view.set_boxes(name, found.boxes[mine].tolist(),
                               [f"{name} {s:.2f}" for s in found.scores[mine].tolist()])
        self.before.figure.layout.title.text = f"Before non-max suppression: {len(kept_before)} boxes"
        self.after.figure.layout.title.text = f"After non-max suppression: {len(kept_after)} boxes"
        total = self.predictions[n, ..., 0].numel()  # S · S · A slots, one box each
        self.text.value = (f"Scene {n}: {objects} (dotted yellow). "
                           f"<b>{len(kept_before)}</b> of the {total} predicted boxes score ≥ {score_threshold:.2f} "
                           f"(score = p_c × class probability); non-max suppression at IoU {iou_threshold:.2f} keeps "
                           f"<b>{len(kept_after)}</b>.")


def training_summary(done: DoneEvent, metrics: dict[str, float], batch_size: int, num_scenes: int) -> str:
    """How long the detector trained and, once evaluated, how well it finds the held-out objects."""
    verb = "stopped after" if done.cancelled else "trained for"
    text = (f"The detector {verb} <b>{done.steps}</b> steps ({done.steps * batch_size:,} scenes) in "
            f"<b>{done.seconds:.1f} s</b>.")
    if not metrics:
        return text
    return (f"{text} On {num_scenes} held-out scenes: <b>mAP@0.5 = {metrics['test_mAP_at_IoU_0.5']:.2f}</b>; "
            f"keeping boxes with score ≥ 0.5 after NMS at IoU 0.5 finds <b>{metrics['test_recall']:.0%}</b> of the "
            f"objects (recall) and <b>{metrics['test_precision']:.0%}</b> of its boxes are right (precision).")


def _view_controls(num_scenes: int) -> dict[str, W.ValueWidget]:
    """The detector dashboard's controls that only redraw the scenes: they never start training."""
    return {
        "scene": control("example_index", label="Held-out scene", value=0, low=0, high=num_scenes - 1,
                         continuous_update=True),
        "score_threshold": control("score_threshold", continuous_update=True),
        "iou_threshold": control("iou_threshold", continuous_update=True),
        "show_grid": checkbox("Show the grid", "Draw the S × S grid cells", value=True),
        "show_anchors": checkbox("Show each object's cell and anchor", "Shade the cell that holds each object's "
                                 "centre and draw the anchor shape that best fits it", value=True),
    }


def detector_dashboard(config: DetectorConfig | None = None, num_steps: int | None = None) -> Dashboard:
    """Train a small YOLO detector from scratch; then threshold and suppress its real predictions live.

    Nothing trains until Train is pressed. Until then the scenes show their ground truth, the grid and the
    anchor each object is assigned to (all known without a network), and the readout asks for training.
    """
    device = lab_device()
    config = config or DetectorConfig()
    scenes = test_scenes(config.num_test, config.test_seed, config.scenes)
    steps = control("detector_steps", value=num_steps or 600)
    views = _view_controls(len(scenes))
    panels = DetectionPanels(scenes, config.scenes)
    summary = readout()

    def selection() -> tuple[int, float, float]:
        """The scene shown, the score threshold and the IoU threshold."""
        scene = validate("example_index", views["scene"].value)
        return scene, views["score_threshold"].value, views["iou_threshold"].value

    def redraw(*_) -> None:
        panels.redraw(*selection(), grid=views["show_grid"].value, anchors=views["show_anchors"].value)

    def work(run: Run, cancel):
        run.model = DetectorTraining(config, device)
        n = validate("detector_steps", run.config["detector_steps"])
        yield from train(run.model, n, eval_every=max(50, n // 6), cancel=cancel, blowup_ratio=None)

    def show_progress(run: Run, items) -> None:
        events = [event for _, event in items]
        if any(isinstance(event, (EvalEvent, DoneEvent)) for event in events):
            panels.set_predictions(run.model.predict(scenes.images).cpu())  # (N, S, S, A, 5 + C)
            panels.redraw_predictions(*selection())
        if isinstance(events[-1], DoneEvent):
            summary.value = training_summary(events[-1], run.history.metrics, config.batch_size, len(scenes))

    def run_label(run_config: dict) -> str:
        return f"{run_config['detector_steps']} steps · lr {config.lr:g} · seed {config.seed}"

    panel = TrainingPanel({"detector_steps": steps}, work, label=run_label, device=device, start_on=(),
                          costs=CostCurves("YOLO loss on each mini-batch", x_title="step", max_runs=3, height=300),
                          fixed={"lr": config.lr, "batch_size": config.batch_size, "seed": config.seed},
                          on_update=show_progress, idle_text="Press Train to train the detector.",
                          train_tooltip="Train the detector from scratch with the chosen number of steps",
                          stop_tooltip="Stop training now: the predictions are those of the network so far",
                          step_name="step")
    redraw_on([views["scene"], views["show_grid"], views["show_anchors"]], redraw, panels.text)
    for name in ("score_threshold", "iou_threshold"):
        views[name].observe(guarded(lambda _: panels.redraw_predictions(*selection()), show_error_in(panels.text)),
                            names="value")
    return Dashboard(
        [panel.badge, W.HBox([steps, *panel.buttons.values()]), panel.status.widget, summary,
         W.HBox([W.VBox([views["score_threshold"], views["iou_threshold"], views["scene"]]),
                 W.VBox([views["show_grid"], views["show_anchors"]])]),
         panels.text, W.HBox([panels.before.figure, panels.after.figure]), panels.assignment, panel.costs.figure,
         panel.export.widget],
        controls={"detector_steps": steps, **views, **panel.buttons},
        figures={"before": panels.before.figure, "after": panels.after.figure, "costs": panel.costs.figure},
        status=panel.status, runner=panel.runner, readout=panels.text, panel=panel)
