"""Download links for a run: its history as CSV and its settings (seed included) as JSON."""

from __future__ import annotations

import base64
import html

import ipywidgets as W

from lab.history import RunHistory


def download_link(filename: str, text: str, mime: str, label: str) -> str:
    """An <a download> with the file inlined as a data: URI, so it works in Voilà and JupyterLab alike."""
    payload = base64.b64encode(text.encode()).decode()
    return (f'<a download="{html.escape(filename)}" href="data:{mime};base64,{payload}" '
            f'style="margin-right:1.5em">{html.escape(label)}</a>')


class ExportLinks:
    def __init__(self):
        self.widget = W.HTML("<i>Export appears here once a run has finished.</i>")

    def show(self, history: RunHistory, stem: str, link: str = "") -> None:
        """Offer `history` as `<stem>.csv` and `<stem>.json`; the JSON carries `link`, the run's settings as an
        address (see widgets.settings_link)."""
        self.widget.value = ("Export this run: "
                             + download_link(f"{stem}.csv", history.to_csv(), "text/csv", "history (CSV)")
                             + download_link(f"{stem}.json", history.to_json(link=link), "application/json",
                                             "settings + seed (JSON)"))
