"""Lab 16's dashboards: set a control as a learner would, let the run finish (or stop it), check what is shown."""

import time
import urllib.error

import numpy as np
import pytest
import torch
from settle import record_messages, run_with

from lab.data.photos import load_colour_photo
from widgets.dashboards import neural_style_transfer as nst
from widgets.dashboards.neural_style_transfer import reconstruction_dashboard, style_transfer_dashboard


@pytest.fixture(autouse=True)
def offline_cache(tmp_path, monkeypatch):
    """An empty torch cache, a download that fails as it would offline, and a fresh download control."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)

    def offline(*_args, **_kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    nst.vgg_download.cache_clear()
    yield
    nst.vgg_download.cache_clear()


def small(dashboard, steps=20, side=64):
    dashboard.controls["style_image_side"].value = side
    return run_with(dashboard, style_steps=steps)


def test_at_load_the_photos_are_shown_and_nothing_trains():
    board = style_transfer_dashboard()
    images = board.images
    assert np.allclose(images.pixels(0), load_colour_photo("chelsea", 128), atol=3e-3)
    assert np.allclose(images.pixels(1), load_colour_photo("immunohistochemistry", 128), atol=3e-3)
    assert board.panel.run is None and not board.runner.running
    assert images.pixels(2).shape == (3, 1, 1)  # nothing painted yet


def test_a_run_paints_the_image_and_draws_j_and_its_parts():
    board = small(style_transfer_dashboard(), steps=20)
    task = board.panel.run.model
    view = board.images
    assert np.allclose(view.pixels(2), task.picture().numpy(), atol=3e-3)
    assert not np.allclose(view.pixels(2), task.content.cpu().numpy(), atol=0.02)  # painted, not the photo
    parts = {t.meta: list(t.y) for t in board.figures["parts"].data}
    assert len(parts["J"]) == 20
    alpha, beta = task.config.content_weight, task.config.style_weight
    for i, (jc, js) in enumerate(task.history):
        assert parts["α·J_content"][i] == pytest.approx(alpha * jc)
        assert parts["β·J_style"][i] == pytest.approx(beta * js)
        assert parts["J"][i] == pytest.approx(alpha * jc + beta * js)
    assert list(board.figures["costs"].data[0].y) == pytest.approx(parts["J"], rel=1e-5)
    assert "iteration 20" in board.readout.value and "of the content photo's own" in board.readout.value


def test_a_larger_beta_strays_further_from_the_content_photo():
    board = small(style_transfer_dashboard(), steps=30)
    content = {}
    for beta in (1.0, 1e5):
        run_with(board, style_weight=beta)
        content[beta] = board.panel.run.model.history[-1][0]  # J_content after 30 iterations
    assert content[1e5] > 2 * content[1.0], content


def test_the_gram_layer_chooser_redraws_without_training():
    board = small(style_transfer_dashboard(), steps=5)
    run = board.panel.run
    board.controls["gram_layer"].value = "layer 1"
    grams = board.figures["grams"]
    assert "layer 1, 32 channels" in grams.layout.title.text
    z = np.asarray(grams.data[0].z)
    style, generated = run.model.grams("layer 1")
    top = style.max().item()
    assert z[0, 0] == pytest.approx(min(1, style[0, 0].item() / top), abs=1e-3)
    assert z[0, 40] == pytest.approx(min(1, generated[0, 0].item() / top), abs=1e-3)  # 32 + 8 gap: the 2nd panel
    assert board.panel.run is run  # no new run


def test_stop_halts_within_one_step_and_keeps_the_image():
    board = style_transfer_dashboard()
    board.controls["style_image_side"].value = 64
    board.controls["style_steps"].value = 2000
    deadline = time.time() + 60
    while (board.panel.run.model is None or len(board.panel.run.model.history) < 3) and time.time() < deadline:
        time.sleep(0.05)
    board.controls["stop"].click()
    steps_at_stop = len(board.panel.run.model.history)
    assert board.runner.wait(30)
    task = board.panel.run.model
    assert len(task.history) <= steps_at_stop + 1
    assert "Stopped" in board.status.text
    assert np.allclose(board.images.pixels(2), task.picture().numpy(), atol=3e-3)


def test_vgg19_without_its_weights_says_what_to_do():
    board = style_transfer_dashboard()
    run_with(board, feature_network="vgg19")
    assert board.status.kind == "warning" and "Download VGG-19 weights" in board.status.text


def test_offline_the_download_button_says_so_on_screen():
    style_transfer_dashboard()
    download = nst.vgg_download()
    download.button.click()
    download.thread.join(30)
    assert "Could not download" in download.text.value and "name resolution" in download.text.value
    assert not download.button.disabled


def test_a_successful_download_makes_vgg19_usable(monkeypatch, tmp_path):
    from lab.vgg19 import VGG19Features
    small_vgg = (4, 4, "M", 8, 8, "M", 8, 8, 8, 8, "M", 8, 8, 8, 8, "M", 8, 8, 8, 8, "M")

    def fake_download(url, dst, hash_prefix=None, progress=True):
        torch.save(VGG19Features(small_vgg).state_dict(), dst)
    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    monkeypatch.setattr(nst, "load_vgg19_features", lambda **_: nst.__dict__["_real_load"](layout=small_vgg))
    monkeypatch.setitem(nst.__dict__, "_real_load", __import__("lab.vgg19").vgg19.load_vgg19_features)
    board = style_transfer_dashboard()
    download = nst.vgg_download()
    download.button.click()
    download.thread.join(30)
    assert "VGG-19 is ready" in download.text.value
    small(board, steps=3)
    run_with(board, feature_network="vgg19")
    assert board.status.kind == "success" and "VGG-19" in board.panel.run.label


def test_rebuilding_from_a_layer_moves_random_pixels_towards_the_photo():
    board = reconstruction_dashboard()
    run_with(board, style_steps=30)
    task = board.panel.run.model
    assert len(task.history) == 30 and task.history[-1][0] < task.history[0][0]
    assert "rebuilt from layer 1, iteration 30" in board.images.caption(1)


class FrozenClock:
    """The dashboard module's clock, stopped: no IMAGE_EVERY or GRAMS_EVERY ever passes during a run."""

    @staticmethod
    def perf_counter() -> float:
        return 1000.0


def test_a_new_runs_first_push_leaves_the_gram_matrices_for_later(monkeypatch):
    """The first push of a run carries the picture and the curves; the Gram matrices follow GRAMS_EVERY later, or
    when the run ends (here the clock is stopped, so only then)."""
    board = style_transfer_dashboard()
    grams_drawn, views = [], []
    show_grams = nst.StyleViews.show_grams

    def spy(self, *args):
        views.append(self)
        grams_drawn.append(len(self.state.task.history))
        return show_grams(self, *args)

    monkeypatch.setattr(nst.StyleViews, "show_grams", spy)
    monkeypatch.setattr(nst, "time", FrozenClock)
    small(board, steps=40)
    assert len(views[-1].state.image_pushes) >= 2, "no push before the run ended: the test saw nothing"
    assert grams_drawn == [40]
    assert "layer 3" in board.figures["grams"].layout.title.text


def test_a_push_redraws_j_and_its_two_parts_in_one_message():
    board = style_transfer_dashboard()
    small(board, steps=5)
    sent = record_messages(board.figures["parts"])
    board.views.show_parts(board.panel.run.model)
    assert sent == []  # the same points: nothing to redraw
    board.panel.run.model.history.append((1.0, 2.0))
    board.views.show_parts(board.panel.run.model)
    assert sent == ["_py2js_update"]  # one redraw of the three lines, not one per line
    steps = len(board.panel.run.model.history)
    assert [len(t.x) for t in board.figures["parts"].data] == [steps] * 3
