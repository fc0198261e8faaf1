"""A network's layers as an HTML table: what each layer does, its output shape, parameters and multiplications."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as W


@dataclass(frozen=True)
class TableRow:
    """One line of the table, already in words and numbers."""

    name: str  # "conv1"
    what: str  # "CONV 5×5, 6 filters, s = 1 + tanh"
    output: str  # "28 × 28 × 6"
    activations: int  # numbers in the output volume
    params: int
    multiplications: int


_CELL = "padding:3px 8px;border-bottom:1px solid #ddd"
_NUMBER = _CELL + ";text-align:right;font-variant-numeric:tabular-nums"
_HEAD = "padding:4px 8px;border-bottom:2px solid #444;text-align:{}"


class LayerTable:
    """`widget` is an HTML widget; `show()` replaces the whole table in one message."""

    COLUMNS = (("Layer", "left"), ("What it does", "left"), ("Output n_H × n_W × n_C", "right"),
               ("Activations", "right"), ("Parameters", "right"), ("Multiplications", "right"))

    def __init__(self, caption: str = ""):
        self.widget = W.HTML(layout={"width": "100%"})
        self.caption = caption
        self.rows: list[TableRow] = []

    def show(self, rows: Sequence[TableRow], caption: str) -> None:
        """The rows, then a line with the totals of parameters and multiplications."""
        self.rows, self.caption = list(rows), caption
        head = "".join(f'<th style="{_HEAD.format(align)}">{html.escape(text)}</th>' for text, align in self.COLUMNS)
        body = "".join(
            f'<tr><td style="{_CELL}"><code>{html.escape(r.name)}</code></td><td style="{_CELL}">'
            f'{html.escape(r.what)}</td><td style="{_NUMBER}">{html.escape(r.output)}</td>'
            f'<td style="{_NUMBER}">{r.activations:,}</td><td style="{_NUMBER}">{r.params:,}</td>'
            f'<td style="{_NUMBER}">{r.multiplications:,}</td></tr>' for r in self.rows)
        params, products = sum(r.params for r in self.rows), sum(r.multiplications for r in self.rows)
        total = (f'<tr style="font-weight:bold"><td style="{_CELL}">total</td><td style="{_CELL}"></td>'
                 f'<td style="{_CELL}"></td><td style="{_CELL}"></td><td style="{_NUMBER}">{params:,}</td>'
                 f'<td style="{_NUMBER}">{products:,}</td></tr>')
        self.widget.value = (f'<table class="lab-layer-table" style="border-collapse:collapse;font-size:13px">'
                             f'<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">'
                             f'{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
                             f'<tbody>{body}{total}</tbody></table>')
