"""The common look of every plot in the lab."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.basewidget import BaseFigureWidget

# Okabe–Ito: distinguishable with the common forms of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")

# plotly's "simple_white" look, kept for the trace types the lab draws. The full template styles 24 trace
# types; copying and validating it cost ~45 ms a figure and sent it to the browser inside every figure's state.
_TRACE_TYPES = ("scatter", "bar", "heatmap", "contour", "histogram")
_SIMPLE_WHITE = pio.templates["simple_white"].to_plotly_json()
# Tick labels may overflow the plot's div (automargin makes room for them anyway): plotly's default, "hide past
# div", measures every label's box on every redraw, a forced layout: ~13 ms a redraw of lab 12's images here.
_AXIS = {"ticklabeloverflow": "allow"}
TEMPLATE = {"layout": {**_SIMPLE_WHITE["layout"], "xaxis": {**_SIMPLE_WHITE["layout"]["xaxis"], **_AXIS},
                       "yaxis": {**_SIMPLE_WHITE["layout"]["yaxis"], **_AXIS}},
            "data": {kind: styles for kind, styles in _SIMPLE_WHITE["data"].items() if kind in _TRACE_TYPES}}


# The browser's messages to a figure (`_js2py_*`: a learner's zoom, the answer that an edit is drawn) are not echoed
# back. ipywidgets ≥ 8 returns every value a page sets to all of the widget's views so that they agree; plotly's views
# never read these traits (the Python side passes a zoom on to the other views itself), so each echo was a message
# as large as the one it answered, for the kernel to send and the page to read, after every drawn edit.
for _name in BaseFigureWidget.class_trait_names():
    if _name.startswith("_js2py_"):
        BaseFigureWidget.class_traits()[_name].metadata["echo_update"] = False


def make_figure(title: str, x_title: str = "", y_title: str = "", *, height: int = 320, width: int | None = None,
                log_y: bool = False) -> go.FigureWidget:
    """An empty FigureWidget with the lab's template, axis titles and a legend above the plot."""
    # a dict, not go.Layout: the figure validates it once (a Layout is validated, then copied and validated
    # again): 10 instead of 18 ms a figure, paid by every dashboard as its page loads
    return go.FigureWidget(layout=dict(
        title={"text": title, "x": 0.02, "font": {"size": 15}},
        template=TEMPLATE, height=height, width=width, margin={"l": 60, "r": 20, "t": 70, "b": 50},
        xaxis={"title": {"text": x_title}, "showgrid": True},
        yaxis={"title": {"text": y_title}, "showgrid": True, **({"type": "log"} if log_y else {})},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        font={"size": 13},
    ))


@contextmanager
def one_message_each(*figures: go.FigureWidget) -> Iterator[None]:
    """Hold every figure's edits made in the block and send them as one message per figure when it ends: the
    browser redraws a plot once per message. As in plotly's `batch_update`, reading a figure inside the block
    gives its values from before the block."""
    with ExitStack() as stack:
        for figure in figures:
            stack.enter_context(figure.batch_update())
        yield


# plotly.js's `animate` with no transition and no redraw draws again only the traces it is given; an update (or a
# restyle) of x or y re-plots every trace of the figure. Two plots of 500 points, 200 of them moving, in a plain
# page with plotly.js in headless Chromium here: ~105 → ~55 ms for both (lab 06 in Voilà: p95 83 → 48–64 ms).
_IN_PLACE = {"frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}, "mode": "immediate"}


@contextmanager
def traces_redrawn_alone(figure: go.FigureWidget) -> Iterator[None]:
    """Send the figure's trace edits made in the block as one message that redraws only the edited traces, not the
    whole figure. For moving the points of scatter traces on axes with fixed ranges: nothing else is drawn again
    (no axis range, legend or layout), so layout edits in the block are refused with a ValueError.

    plotly's own `batch_animate` cannot turn the redraw off (plotly.js then re-plots everything after the
    transition), hence its two steps here."""
    if figure._in_batch_mode:
        raise RuntimeError("traces_redrawn_alone inside another batch: its edits would go out with that one")
    figure._in_batch_mode = True
    try:
        yield
    except BaseException:  # the block failed: none of its edits were applied, none is sent later
        figure._batch_layout_edits.clear()
        figure._batch_trace_edits.clear()
        raise
    finally:
        figure._in_batch_mode = False
    if figure._batch_layout_edits:
        edits = dict(figure._batch_layout_edits)
        figure._batch_layout_edits.clear()
        figure._batch_trace_edits.clear()
        raise ValueError(f"traces_redrawn_alone: layout edits {edits} would not be drawn; make them outside")
    figure._perform_batch_animate(_IN_PLACE)


def log_ticks(values: Iterable[float | None]) -> tuple[list[float], list[str]] | None:
    """Tick positions and full-number labels for a log axis over the positive finite `values`.

    plotly labels the ticks between powers of ten with a bare digit ("5" for 0.5, next to "0.1"), which reads
    as the wrong number. Here every label is the whole number: every 1…9 when the data span less than a
    factor of ten, 1, 2 and 5 in each decade up to 2.5 decades, and beyond that powers of ten, spaced so that
    about six are labelled. ([], []) when there is nothing to show; None when fewer than two such ticks fall
    among the data (a curve that barely moves): plotly's own labels are whole numbers at that zoom.
    """
    data = np.asarray(list(values), dtype=float)  # None becomes NaN
    data = data[np.isfinite(data) & (data > 0)]
    if data.size == 0:
        return [], []
    smallest, largest = float(data.min()), float(data.max())
    low, high = math.floor(math.log10(smallest)), math.ceil(math.log10(largest))
    span = math.log10(largest / smallest)  # in decades
    marks = range(1, 10) if span < 1 else (1, 2, 5) if span <= 2.5 else (1,)
    step = max(1, math.ceil(span / 6)) if marks == (1,) else 1
    ticks = sorted(float(f"{m}e{k}") for k in range(high, low - 1, -step) for m in marks)  # exact decimals
    inside = [t for t in ticks if smallest <= t <= largest]
    if len(inside) < 2:
        return None
    # keep one tick on each side of the data, so the labels frame the curves
    ticks = [t for t in ticks if t < smallest][-1:] + inside + [t for t in ticks if t > largest][:1]
    return ticks, [f"{t:.10g}" for t in ticks]


def label_log_axis(figure: go.FigureWidget, values: Iterable[float | None]) -> None:
    """Give the figure's log y axis full-number tick labels for `values`, all the y values it will show (see
    `log_ticks`). Call it inside the `batch_update` that sets those values: the browser then redraws once."""
    ticks = log_ticks(values)
    if ticks is None:  # a curve that barely moves: plotly's labels
        figure.layout.yaxis.update(tickmode="auto", tickvals=None, ticktext=None)
    else:  # ours; none at all on an empty plot, rather than plotly's guesses for a range it cannot know
        figure.layout.yaxis.update(tickmode="array", tickvals=ticks[0], ticktext=ticks[1])


def set_heatmap_z(figure: go.FigureWidget, z, *, index: int = 0, decimals: int = 3) -> None:
    """Set heatmap trace `index`'s z to the 2-D array `z`, rounded, as one 1-D float64 array per row: plotly's widget
    serializer sends each row as a binary buffer the browser reads as a typed array, where nested lists are walked one
    number at a time by plotly's validation and ipywidgets' buffer search, and parsed from JSON in the browser (an
    ImageGrid of two 128 × 128 pictures, lab 16's Gram matrices: 80 → 2 ms in the kernel). NaN and ±inf travel as
    NaN, drawn as a gap, where in JSON they would void the message. Checked in Voilà: a 2-D numpy array does not
    reach the browser, and plotly's base64 typed-array form stops updating after the window is resized; rows keep
    updating.

    Inside a `batch_update` the rows go out with the batch's other edits, in one message; alone, in one of their own.
    They join the batch's edits directly: plotly applies a batch's edits unvalidated at its end (`plotly_update`),
    and its validation is what would walk every number."""
    if not figure._in_batch_mode:
        with figure.batch_update():
            set_heatmap_z(figure, z, index=index, decimals=decimals)
        return
    array = np.asarray(z, dtype=np.float64).round(decimals)
    rows = list(np.where(np.isfinite(array), array, np.nan))  # ±inf (a diverged run) drawn as a gap too
    figure._batch_trace_edits.setdefault(index, {})["z"] = rows


def heatmap_z(figure: go.FigureWidget, index: int = 0) -> np.ndarray:
    """The z a heatmap trace holds, as a 2-D array (for tests and exports)."""
    return np.asarray(figure.data[index].z, dtype=np.float64)


def plottable(values: Iterable[float]) -> list[float | None]:
    """Values with NaN and ±inf replaced by None: plotly draws a gap, and the widget message stays
    valid JSON (a bare NaN makes the browser drop the whole update)."""
    return [v if math.isfinite(v) else None for v in values]


def publish_state(figure: go.FigureWidget) -> None:
    """Copy the figure's current traces and layout into the state a new browser view starts from.

    plotly's FigureWidget refreshes that state only when the figure itself is displayed; a figure
    shown inside a VBox would otherwise appear as it was at construction, without the traces and
    layout changes made before the page connected (Voilà runs the whole notebook first).
    """
    figure._repr_mimebundle_()  # the public display hook is what refreshes `_widget_data`/`_widget_layout`
