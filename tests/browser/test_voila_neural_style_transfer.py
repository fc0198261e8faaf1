"""Lab 16 in Voilà: the photos are on the page at load; a learner shrinks the image and the iterations, and the
generated image is painted at the size the slider shows, away from the photo, with J drawn for every iteration;
another style image is shown as chosen; the Gram chooser redraws the layer chosen; Stop halts a long run; and the
second dashboard rebuilds the photo from the layer chosen."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from PIL import Image
from playwright.sync_api import expect
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider, dashboard, eventually, finished, plot_data, readout, trace

pytestmark = pytest.mark.browser

NOTEBOOK = "16_neural_style_transfer.ipynb"
PARTS = "J and its two parts"
COSTS = "Cost J of each run"
GRAMS = "Gram matrices"
REBUILT = "Content cost J_content at the chosen layer"

# the PNG bytes each image of a dashboard shows, base64-encoded
IMAGES_JS = """imgs => Promise.all(imgs.map(async img => {
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = ''; for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}))"""


def images(board) -> list[np.ndarray]:
    """The pixels of each colour image in the dashboard, (H, W, 3) in [0, 1]."""
    return [decode(s) for s in board.locator("img.widget-image").evaluate_all(IMAGES_JS)]


def decode(text: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))).convert("RGB"), dtype=float) / 255


def assert_in(part: str, text: str) -> None:
    assert part in text, text


def test_painting_follows_the_controls(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    board = dashboard(page, PARTS)
    shown = images(board)
    assert shown[0].shape == (85, 128, 3) and shown[1].shape == (128, 128, 3)  # photo and style at load

    click_slider(board, "Image size (pixels, long side)", 0.02)  # 64 px, the smallest: quick runs
    click_slider(board, "Iterations", 0.02)
    side, steps = int(readout(board, "Image size (pixels, long side)")), int(readout(board, "Iterations"))
    expect(board.locator(".lab-status")).to_contain_text(re.compile(rf"Finished .* · {side} px · "), timeout=120_000)

    def painted():
        photo, _, generated = images(board)
        assert generated.shape == photo.shape and max(generated.shape[:2]) == side
        assert np.abs(generated - photo).mean() > 0.01  # painted, not the photo
        assert f"generated image, iteration {steps}" in board.inner_text()
        assert len(trace(plot_data(board, PARTS), "J")["y"]) == steps
    eventually(page, painted)
    assert_in("of the content photo's own", board.inner_text())

    choose(board, "Style image", "gravel")
    finished(board, "chelsea × gravel")

    def grey_style():
        style = images(board)[1]
        assert np.allclose(style[..., 0], style[..., 1]) and np.allclose(style[..., 1], style[..., 2])
    eventually(page, grey_style)

    choose(board, "Gram matrices of", "layer 1")
    eventually(page, lambda: assert_in("at layer 1, 32 channels", plot_data(board, GRAMS)["title"]))

    click_slider(board, "Iterations", 0.98)  # about 1,960 iterations (1.0 is the track's edge, outside it)
    eventually(page, lambda: assert_in("Training", board.locator(".lab-status").inner_text()))
    board.locator("button", has_text="Stop").first.click()
    eventually(page, lambda: assert_in("Stopped", board.locator(".lab-status").inner_text()))

    rebuild = dashboard(page, REBUILT)
    choose(rebuild, "Content layer", "layer 2")
    click_slider(rebuild, "Iterations", 0.02)
    finished(rebuild, "chelsea from layer 2")
    steps = int(readout(rebuild, "Iterations"))
    eventually(page, lambda: assert_in(f"rebuilt from layer 2, iteration {steps}", rebuild.inner_text()))
    assert images(rebuild)[1].shape == (85, 128, 3)

    screenshot(page, ARTIFACTS / "voila-16_neural_style_transfer-moved.png")
    assert error_texts(page) == [] and page.errors.items == []
