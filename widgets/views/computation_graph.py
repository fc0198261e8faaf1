"""A computation graph drawn as a plot: nodes (variables and operations) as circles, edges as arrows from an operand
to the operation that reads it. Every node carries a text above it (its forward value) and one below it (its
derivative, once backprop reaches it); every edge carries a boxed label at its middle (its local derivative).

The arrows and positions never change; `show()` updates only texts and colours, in one message.
"""

from __future__ import annotations

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure

DIM, LIT, CURRENT = "#c8c8c8", PALETTE[1], PALETTE[5]  # grey; orange for a visited edge; vermilion for the latest
LABEL = "#8a4b00"  # a visited edge's label: a dark orange that reads well on white
NODE_SIZE = 46  # marker diameter in pixels; arrows stop at its edge


def layered_positions(nodes: list[tuple[str, tuple[str, ...]]]) -> dict[str, tuple[float, float]]:
    """(x, y) for every node, given (name, inputs) in an order where inputs come first: x is the length of the
    longest path from a variable, variables are stacked top to bottom, an operation sits at the mean height of its
    inputs (u = b·c between b and c)."""
    positions: dict[str, tuple[float, float]] = {}
    variables = [name for name, inputs in nodes if not inputs]
    for name, inputs in nodes:
        if not inputs:
            positions[name] = (0.0, float(len(variables) - 1 - variables.index(name)))
        else:
            x = 1 + max(positions[i][0] for i in inputs)
            positions[name] = (x, sum(positions[i][1] for i in inputs) / len(inputs))
    return positions


class GraphView:
    """The graph of `nodes` [(name, inputs), …]: trace 0 the edges, 1 the visited edges, 2 the nodes, 3 the texts
    above the nodes, 4 the texts below them; one arrow annotation per edge, then one label annotation per edge."""

    def __init__(self, title: str, nodes: list[tuple[str, tuple[str, ...]]], *, width: int = 1000,
                 height: int = 400):
        self.positions = layered_positions(nodes)
        self.names = [name for name, _ in nodes]
        self.edges = [(source, name) for name, inputs in nodes for source in inputs]
        self.figure = make_figure(title, height=height, width=width)
        xs = [p[0] for p in self.positions.values()]
        ys = [p[1] for p in self.positions.values()]
        self.figure.update_xaxes(visible=False, range=[min(xs) - 0.45, max(xs) + 0.45])
        self.figure.update_yaxes(visible=False, range=[min(ys) - 0.6, max(ys) + 0.55])
        self.figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=False)
        ex, ey = self._segments(self.edges)
        self.figure.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line={"color": DIM, "width": 2},
                                         hoverinfo="skip", name="edges"))
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="lines", line={"color": LIT, "width": 6},
                                         hoverinfo="skip", name="visited edges"))
        self.figure.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers+text", text=self.names, textfont={"size": 17, "color": "white"},
            marker={"size": NODE_SIZE, "color": [PALETTE[0]] * len(xs), "line": {"width": 0}},
            hoverinfo="skip", name="nodes"))
        self.figure.add_trace(go.Scatter(x=xs, y=[y + 0.22 for y in ys], mode="text", text=[""] * len(xs),
                                         textposition="top center", textfont={"size": 14, "color": "#1f1f1f"},
                                         hoverinfo="skip", name="forward values"))
        self.figure.add_trace(go.Scatter(x=xs, y=[y - 0.22 for y in ys], mode="text", text=[""] * len(xs),
                                         textposition="bottom center", textfont={"size": 14, "color": LABEL},
                                         hoverinfo="skip", name="derivatives"))
        for source, target in self.edges:  # forward direction: operand → operation
            (x0, y0), (x1, y1) = self.positions[source], self.positions[target]
            self.figure.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                                       showarrow=True, arrowhead=2, arrowsize=1.4, arrowwidth=2, arrowcolor="#777",
                                       standoff=NODE_SIZE / 2 + 2, startstandoff=NODE_SIZE / 2 + 2, text="")
        for edge in self.edges:  # the local derivatives, in white boxes that a lit edge cannot hide
            x, y = self._middle(edge)
            self.figure.add_annotation(x=x, y=y, xref="x", yref="y", showarrow=False, text="", bgcolor="white",
                                       bordercolor=DIM, borderwidth=1, borderpad=3, font={"size": 13, "color": "#555"})

    def _middle(self, edge: tuple[str, str]) -> tuple[float, float]:
        (x0, y0), (x1, y1) = self.positions[edge[0]], self.positions[edge[1]]
        return (x0 + x1) / 2, (y0 + y1) / 2

    def _segments(self, edges: list[tuple[str, str]]) -> tuple[list, list]:
        xs, ys = [], []
        for source, target in edges:
            (x0, y0), (x1, y1) = self.positions[source], self.positions[target]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        return xs, ys

    def show(self, *, above: dict[str, str], below: dict[str, str], edge_labels: dict[tuple[str, str], str],
             visited: list[str], current: str | None, title: str | None = None) -> None:
        """Texts above and below each node (missing: blank), a label per (source, target) edge, and the nodes
        backprop has visited (`current` the latest): their outgoing edges are drawn thick, their labels coloured."""
        lit = [edge for edge in self.edges if edge[0] in visited]
        colours = [CURRENT if name == current else PALETTE[0] if name in visited else "#8a8a8a"
                   for name in self.names]
        label_colours = [LABEL if edge in lit else "#555" for edge in self.edges]
        lx, ly = self._segments(lit)
        labels = self.figure.layout.annotations[len(self.edges):]
        with self.figure.batch_update():
            self.figure.data[1].x, self.figure.data[1].y = lx, ly
            self.figure.data[2].marker.color = colours
            self.figure.data[3].text = [above.get(name, "") for name in self.names]
            self.figure.data[4].text = [below.get(name, "") for name in self.names]
            for label, edge, colour in zip(labels, self.edges, label_colours, strict=True):
                label.text, label.font.color, label.bordercolor = edge_labels.get(edge, ""), colour, colour
            if title is not None:
                self.figure.layout.title.text = title


def edge_label_texts(figure: go.FigureWidget) -> list[str]:
    """The edge labels a GraphView figure shows, in edge order (for tests)."""
    annotations = figure.layout.annotations
    return [a.text for a in annotations[len(annotations) // 2:]]
