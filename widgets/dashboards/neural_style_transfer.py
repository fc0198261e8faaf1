"""Lab 16, neural style transfer: a content photo painted in the textures of a style image, live.

Two dashboards, each returned (not displayed) by its function:
- `style_transfer_dashboard`: content photo, style image, α, β, content layer, the style weight of each layer,
  image size, learning rate, iterations and the feature network → the generated image redrawn as gradient
  descent paints it, J with its two parts, and the Gram matrices of the style and the generated image;
- `reconstruction_dashboard`: a photo rebuilt from random pixels out of one layer's activations only, to see
  what each layer keeps.

The VGG-19 option downloads its weights only when the learner presses its button (`VggDownload`).
"""

from __future__ import annotations

import functools
import html
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import ipywidgets as W
import numpy as np
import torch

from lab.data.photos import load_colour_photo
from lab.feature_network import RandomFeatures
from lab.style_transfer import STYLISED_DROP, StyleConfig, StyleTransfer, gram_thumbnail, is_stylised, style_left
from lab.training import DoneEvent, Event, train
from lab.vgg19 import (
    VGG19_MB,
    VGG19Features,
    bytes_downloaded,
    load_vgg19_features,
    vgg19_downloaded,
    vgg19_file,
)
from widgets.controls import button, choice, control
from widgets.dashboard import Dashboard, lab_device, readout
from widgets.runner import Refusal
from widgets.training_panel import Run, TrainingPanel
from widgets.views.colour_images import ColourImages
from widgets.views.cost_curves import CostCurves
from widgets.views.image_grid import ImageGrid
from widgets.views.labelled_lines import LabelledLines

LAYERS = RandomFeatures.layer_names
IMAGE_EVERY = 0.25  # seconds between two pushes of the live image
GRAMS_EVERY = 1.0  # seconds between two redraws of the Gram matrices while training
GRAM_SIDE = 128  # a Gram matrix larger than this (VGG's 512 channels) is shown block-averaged


# ---------------------------------------------------------------- feature networks


@functools.cache
def random_features(device: str) -> RandomFeatures:
    return RandomFeatures(seed=0).to(device)


class VggDownload:
    """The opt-in: a button that fetches VGG-19's weights once into torch's cache, with the size and progress shown,
    and a clear line (not a traceback) when there is no network."""

    def __init__(self):
        self.button = button(f"Download VGG-19 weights ({VGG19_MB} MB, once)", "Fetch VGG-19's ImageNet weights "
                             "from download.pytorch.org into torch's cache; needs a network connection")
        self.text = W.HTML(layout={"margin": "2px 0"})
        self.thread: threading.Thread | None = None
        self._network: VGG19Features | None = None
        self._lock = threading.Lock()
        self.button.on_click(lambda _: self.start())
        self.widget = W.HBox([self.button, self.text])
        if vgg19_downloaded():
            self.text.value = f"VGG-19's weights are in torch's cache ({html.escape(str(vgg19_file()))})."

    def start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        self.button.disabled = True
        self.thread = threading.Thread(target=self._fetch, daemon=True, name="vgg19-download")
        self.thread.start()

    def network(self, device: str) -> VGG19Features:
        """VGG-19 on `device`, read from the cache (once); Refusal when the weights were never downloaded."""
        with self._lock:
            if self._network is None:
                if not vgg19_downloaded():
                    raise Refusal("VGG-19's weights are not on this machine yet: press “Download VGG-19 weights” "
                                  "(it needs a network connection), or choose the random feature network.")
                self._network = load_vgg19_features()
            return self._network.to(device)

    def _fetch(self) -> None:
        done = threading.Event()

        def report() -> None:
            while not done.wait(0.5):
                self.text.value = (f"Downloading VGG-19: {bytes_downloaded() / 2**20:.0f} of about {VGG19_MB} MB "
                                   "into torch's cache…")
        watcher = threading.Thread(target=report, daemon=True)
        watcher.start()
        try:
            self.network("cpu") if vgg19_downloaded() else self._load()
            self.text.value = ("✔ VGG-19 is ready: choose <b>vgg19</b> as the feature network. Weights in "
                               f"{html.escape(str(vgg19_file()))}.")
        except Exception as error:  # no network, a firewall, a full disk: said on screen, the lab goes on
            self.text.value = (f"⚠ Could not download VGG-19's weights ({html.escape(type(error).__name__)}: "
                               f"{html.escape(str(error))}). Is this machine online? Everything else in the lab "
                               "works without them: keep the random feature network.")
        finally:
            done.set()
            watcher.join()
            self.button.disabled = False

    def _load(self) -> None:
        network = load_vgg19_features(progress=False)
        with self._lock:
            self._network = network


@functools.cache
def vgg_download() -> VggDownload:
    """One download control per kernel: both dashboards share the loaded network."""
    return VggDownload()


def feature_network(name: str, device: torch.device) -> RandomFeatures | VGG19Features:
    return random_features(str(device)) if name == "random" else vgg_download().network(str(device))


# ---------------------------------------------------------------- style transfer


def layer_weight_controls() -> dict[str, W.ValueWidget]:
    return {f"style_layer_{i}": control("style_layer_weight", label=f"Style weight λ of layer {i}")
            for i in range(1, len(LAYERS) + 1)}


def style_config(config: dict) -> StyleConfig:
    return StyleConfig(content_photo=config["content_photo"], style_photo=config["style_photo"],
                       content_layer=config["content_layer"], content_weight=config["content_weight"],
                       style_weight=config["style_weight"], style_image_side=config["style_image_side"],
                       lr=config["lr"], layer_weights=tuple(config[f"style_layer_{i}"] for i in range(1, 6)))


def style_label(config: dict) -> str:
    """'chelsea × immunohistochemistry · α=1 · β=1e+03 · content layer 3 · λ 1,1,1,1,1 · 128 px · lr 0.02'."""
    weights = ",".join(f"{config[f'style_layer_{i}']:g}" for i in range(1, 6))
    net = " · VGG-19" if config["feature_network"] == "vgg19" else ""
    return (f"{config['content_photo']} × {config['style_photo']} · α={config['content_weight']:.2g} · "
            f"β={config['style_weight']:.2g} · content {config['content_layer']} · λ {weights} · "
            f"{config['style_image_side']} px · lr {config['lr']:.2g}{net}")


@dataclass
class LiveState:
    """What the views remember about the run they show."""

    task: StyleTransfer | None = None
    started: float = 0.0  # perf_counter when the run's first step began
    image_pushed: float = 0.0  # perf_counter of the last image push
    grams_pushed: float = 0.0
    stylised_at: tuple[int, float] | None = None  # (step, seconds) when J_style first fell to STYLISED_DROP
    checked: int = 0  # iterations already checked for that
    image_pushes: list[float] = field(default_factory=list)  # times of the image pushes (for the benchmark)


class StyleViews:
    """The generated image, the cost and its parts, and the Gram matrices, following one run."""

    def __init__(self):
        self.images = ColourImages("The content photo, the style image and the generated image",
                                   ["content photo", "style image", "generated image"])
        self.parts = LabelledLines("J and its two parts (this run)", ["J", "α·J_content", "β·J_style"],
                                   x_title="iteration", y_title="cost", height=320)
        self.parts.figure.update_yaxes(type="log")
        self.grams = ImageGrid("Gram matrices G/(n_H·n_W)", columns=2, height=330, width=640)
        self.gram_layer = choice("Gram matrices of", "Which layer's Gram matrices to compare (no retraining)",
                                 [(name, name) for name in LAYERS], value="layer 3")
        self.summary = readout()
        self.state = LiveState()

    def show_photos(self, config: dict) -> None:
        side = config["style_image_side"]
        self.images.show(0, load_colour_photo(config["content_photo"], side))
        self.images.show(1, load_colour_photo(config["style_photo"], side))

    def new_run(self, run: Run) -> None:
        # the Gram matrices wait GRAMS_EVERY like every later redraw of them: the run's first push is then the
        # picture and the curves only, the page's quickest answer to the control that started the run
        now = time.perf_counter()
        self.state = LiveState(started=now, grams_pushed=now)
        self.parts.clear()
        self.show_photos(run.config)

    def update(self, run: Run, items) -> None:
        task, state = run.model, self.state
        if task is None:
            return
        state.task = task
        while state.stylised_at is None and state.checked < len(task.history):
            state.checked += 1
            if is_stylised(task.history[state.checked - 1][1], task.start_style_cost):
                state.stylised_at = (state.checked, time.perf_counter() - state.started)
        now, ended = time.perf_counter(), any(isinstance(e, DoneEvent) for _, e in items)
        if ended or now - state.image_pushed >= IMAGE_EVERY:
            state.image_pushed = now
            state.image_pushes.append(now - state.started)
            self.images.show(2, task.picture(), title=f"generated image, iteration {len(task.history)}")
            self.show_parts(task)
            self.summary.value = self.describe(run)
        if ended or now - state.grams_pushed >= GRAMS_EVERY:
            state.grams_pushed = now
            self.show_grams()

    def show_parts(self, task: StyleTransfer) -> None:
        c = task.config
        steps = list(range(1, len(task.history) + 1))
        content = [c.content_weight * jc for jc, _ in task.history]
        style = [c.style_weight * js for _, js in task.history]
        with self.parts.figure.batch_update():  # one redraw in the browser for the three lines, not three
            self.parts.show("α·J_content", steps, content)
            self.parts.show("β·J_style", steps, style)
            self.parts.show("J", steps, [a + b for a, b in zip(content, style, strict=True)])

    def show_grams(self, *_) -> None:
        task, layer = self.state.task, self.gram_layer.value
        if task is None:
            self.grams.show(np.zeros((0, 1, 1)), [])
            return
        grams = task.grams(layer)
        style, generated = (gram_picture(g) for g in grams)
        top = float(style.max()) or 1.0
        with self.grams.figure.batch_update():
            self.grams.show(np.stack([style / top, generated / top]).clip(0, 1),
                            [f"style image, {layer}", f"generated image, {layer}"])
            self.grams.figure.layout.title.text = (f"Gram matrices G/(n_H·n_W) at {layer}, {grams[0].shape[0]} "
                                                   "channels: white = the style's largest value")

    def describe(self, run: Run) -> str:
        task, state = run.model, self.state
        if not task.history:
            return ""
        j_content, j_style = task.history[-1]
        left = style_left(j_style, task.start_style_cost)
        when = (f"visibly stylised (J_style ≤ {STYLISED_DROP:.0%} of the content photo's) after "
                f"<b>{state.stylised_at[0]} iterations, {state.stylised_at[1]:.1f} s</b>" if state.stylised_at
                else f"not yet visibly stylised (that is J_style ≤ {STYLISED_DROP:.0%} of the content photo's)")
        return (f"<b>{html.escape(run.label)}</b>: iteration {len(task.history)}: J_content = {j_content:.3g}, "
                f"J_style = {j_style:.3g}, <b>{left:.1%}</b> of the content photo's own; {when}.")


def gram_picture(gram: torch.Tensor) -> np.ndarray:
    """A Gram matrix (n_C, n_C) as an array, block-averaged down to at most GRAM_SIDE on a side."""
    return gram_thumbnail(gram, GRAM_SIDE).numpy().astype(np.float64)


def style_transfer_dashboard() -> Dashboard:
    """Photos, α, β, layers, size, learning rate, iterations and feature network → the generated image, redrawn
    as it is optimized, J with its parts, and the Gram matrices of the style and generated image side by side."""
    device = lab_device()
    controls = {"content_photo": control("content_photo"), "style_photo": control("style_photo"),
                "content_weight": control("content_weight"), "style_weight": control("style_weight"),
                "content_layer": control("content_layer"), **layer_weight_controls(),
                "style_image_side": control("style_image_side"),
                "lr": control("lr", label="Learning rate (Adam step on the pixels)", value=0.02, low=1e-3, high=0.5),
                "style_steps": control("style_steps"), "feature_network": control("feature_network")}
    views = StyleViews()

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        network = feature_network(run.config["feature_network"], device)
        run.model = StyleTransfer(style_config(run.config), network, device)
        yield from train(run.model, run.config["style_steps"], cancel=cancel, blowup_ratio=None,
                         hint="try a smaller learning rate")

    def done(run: Run) -> None:
        if run.model is not None and run.model.history:
            views.summary.value = views.describe(run)

    costs = CostCurves("Cost J of each run (runs overlaid)", height=300)
    panel = TrainingPanel(controls, work, label=style_label, device=device, costs=costs, on_start=views.new_run,
                          on_update=views.update, on_done=done, fixed={"seed": 0}, train_text="Paint",
                          train_tooltip="Start painting the generated image with the current settings",
                          stop_tooltip="Stop painting; the image so far stays", idle_text="Press Paint (or move a "
                          "control) to start from the content photo.")
    views.show_photos(panel.config())
    views.show_grams()
    views.gram_layer.observe(panel.guard(views.show_grams), names="value")
    board = panel.dashboard(views.images.widget, W.HBox([views.parts.figure, costs.figure]), views.gram_layer,
                            views.grams.figure, readout=views.summary, columns=2, header=[vgg_download().widget],
                            extra_controls={"gram_layer": views.gram_layer},
                            figures={"parts": views.parts.figure, "costs": costs.figure, "grams": views.grams.figure})
    board.images = views.images  # for tests and benchmarks: the pictures shown
    board.views = views
    return board


# ---------------------------------------------------------------- what a layer keeps


def reconstruction_label(config: dict) -> str:
    net = " · VGG-19" if config["feature_network"] == "vgg19" else ""
    return f"{config['content_photo']} from {config['content_layer']} · lr {config['lr']:.2g}{net}"


def reconstruction_dashboard() -> Dashboard:
    """Photo, layer, learning rate, iterations and feature network → random pixels changed until their activations
    at that one layer match the photo's: what survives is what the layer keeps."""
    device = lab_device()
    controls = {"content_photo": control("content_photo"), "content_layer": control("content_layer", value="layer 1"),
                "lr": control("lr", label="Learning rate (Adam step on the pixels)", value=0.05, low=1e-3, high=0.5),
                "style_steps": control("style_steps", value=300), "feature_network": control("feature_network")}
    images = ColourImages("The photo, and random pixels rebuilt from one layer's activations", ["photo", "rebuilt"])
    pushed = [0.0]

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        c = run.config
        config = StyleConfig(content_photo=c["content_photo"], content_layer=c["content_layer"], content_weight=1.0,
                             style_weight=0.0, layer_weights=(0.0,) * len(LAYERS), lr=c["lr"], start="noise")
        run.model = StyleTransfer(config, feature_network(c["feature_network"], device), device)
        yield from train(run.model, c["style_steps"], cancel=cancel, blowup_ratio=None)

    def show(run: Run, items) -> None:
        now, ended = time.perf_counter(), any(isinstance(e, DoneEvent) for _, e in items)
        if run.model is not None and (ended or now - pushed[0] >= IMAGE_EVERY):
            pushed[0] = now
            images.show(1, run.model.picture(), title=f"rebuilt from {run.config['content_layer']}, iteration "
                        f"{len(run.model.history)}")

    def new_run(run: Run) -> None:
        images.show(0, load_colour_photo(run.config["content_photo"], 128))

    costs = CostCurves("Content cost J_content at the chosen layer", height=300)
    panel = TrainingPanel(controls, work, label=reconstruction_label, device=device, costs=costs, on_start=new_run,
                          on_update=show, fixed={"seed": 0}, train_text="Rebuild",
                          train_tooltip="Start again from random pixels", idle_text="Press Rebuild (or move a "
                          "control) to rebuild the photo from one layer.")
    images.show(0, load_colour_photo(controls["content_photo"].value, 128))
    board = panel.dashboard(images.widget, costs.figure, columns=2, figures={"costs": costs.figure})
    board.images = images
    return board
