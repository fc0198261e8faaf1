"""One line of text that says what is happening: progress, results, divergence, errors.

Voilà hides tracebacks, so every failure a learner could cause must end up here, in words.
"""

from __future__ import annotations

import html

import ipywidgets as W

_STYLES = {
    "info": ("#1f1f1f", "#eef4fa", "ℹ"),
    "busy": ("#1f1f1f", "#eef4fa", "⏳"),
    "success": ("#0b3d2c", "#e6f4ee", "✔"),
    "warning": ("#5a2a00", "#fff1e0", "⚠"),
    "error": ("#6b0000", "#fde8e8", "✖"),
}


class StatusLine:
    def __init__(self, text: str = "Move a control or press Train to start."):
        self.widget = W.HTML(layout={"width": "100%"})
        self.kind, self.text = "info", ""
        self.show(text)

    def show(self, text: str, kind: str = "info") -> None:
        """Replace the line; `kind` is info, busy, success, warning or error (colour and icon)."""
        colour, background, icon = _STYLES[kind]
        self.kind, self.text = kind, text
        self.widget.value = (f'<div role="status" aria-live="polite" class="lab-status lab-status-{kind}" '
                             f'style="color:{colour};background:{background};padding:6px 10px;'
                             f'border-radius:4px;font-size:14px">{icon} {html.escape(text)}</div>')
