"""Words as labelled points in a 2-D projection, coloured by group, with links and arrows between them."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable

Point = tuple[float, float]


class EmbeddingScatter:
    """One marker (+ text, when it has words) trace per group, one trace of thin links, and `num_arrows` arrow
    traces.

    The traces are made once; `show` replaces their data in place inside one `batch_update`.
    """

    def __init__(self, title: str, groups: Sequence[str], *, num_arrows: int = 0, arrow_names: Sequence[str] = (),
                 link_name: str = "", height: int = 460, width: int | None = 640):
        self.groups = list(groups)
        self.figure = make_figure(title, "principal component 1", "principal component 2", height=height,
                                  width=width)
        for i, group in enumerate(self.groups):
            self.figure.add_trace(go.Scatter(
                x=[], y=[], mode="markers+text", name=group, meta=group, textposition="top center",
                marker={"color": PALETTE[i % len(PALETTE)], "size": 10}, textfont={"size": 13},
                hovertemplate="%{text}<extra></extra>"))
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name=link_name or "links", meta="links",
                                         showlegend=bool(link_name), hoverinfo="skip",
                                         line={"color": "#999999", "width": 1.5, "dash": "dot"}))
        for i in range(num_arrows):
            colour = PALETTE[(len(self.groups) + i) % len(PALETTE)]
            self.figure.add_trace(go.Scatter(
                x=[], y=[], mode="lines+markers", meta=f"arrow{i}", hoverinfo="skip",
                name=arrow_names[i] if i < len(arrow_names) else f"arrow {i + 1}",
                line={"color": colour, "width": 3},
                marker={"symbol": ["circle", "arrow"], "angleref": "previous", "size": [0, 16], "color": colour}))
        # many legend entries: a column on the right, clear of the title
        self.figure.update_layout(legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
                                  margin={"r": 150})
        self.figure.update_xaxes(zeroline=False)
        self.figure.update_yaxes(zeroline=False, scaleanchor="x", scaleratio=1)

    def trace(self, meta: str):
        for trace in self.figure.data:
            if trace.meta == meta:
                return trace
        raise KeyError(f"No trace {meta!r} in this scatter.")

    def show(self, points: Sequence[Point], words: Sequence[str], groups: Sequence[str], *,
             links: Sequence[tuple[int, int]] = (), arrows: Sequence[tuple[int, int] | None] = (),
             title: str | None = None) -> None:
        """Draw word i at points[i] in the colour of groups[i]; a dotted line for each (i, j) in `links`;
        arrow n from point i to point j for arrows[n] = (i, j) (None hides arrow n)."""
        xs = plottable(p[0] for p in points)
        ys = plottable(p[1] for p in points)
        with self.figure.batch_update():
            for group in self.groups:
                members = [i for i, g in enumerate(groups) if g == group]
                trace = self.trace(group)
                trace.x, trace.y = [xs[i] for i in members], [ys[i] for i in members]
                texts = [words[i] for i in members]
                trace.text = texts
                # a group with no word to show draws no text: the browser then makes no text node per point
                # (lab 15's 200 unlabelled points), and every redraw of the plot is the quicker for it
                trace.mode = "markers+text" if any(texts) else "markers"
            link_x, link_y = [], []
            for i, j in links:
                link_x += [xs[i], xs[j], None]
                link_y += [ys[i], ys[j], None]
            links_trace = self.trace("links")
            links_trace.x, links_trace.y = link_x, link_y
            for n, trace in enumerate(t for t in self.figure.data if str(t.meta).startswith("arrow")):
                pair = arrows[n] if n < len(arrows) else None
                trace.x = [xs[pair[0]], xs[pair[1]]] if pair else []
                trace.y = [ys[pair[0]], ys[pair[1]]] if pair else []
            if title is not None:
                self.figure.layout.title.text = title
