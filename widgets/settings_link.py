"""Settings in a link: the query string of a Voilà address sets the page's controls
(`…/render/07_optimization.ipynb?lr=0.3&beta=0.99`), and every dashboard offers the link to its own settings.

A link names controls by their keys in `dashboard.controls` (the declared parameter's name, e.g. `lr`) and holds
only values that differ from the dashboard's starting ones. `dashboard=optimizer` limits it to the dashboard
built by `optimizer_dashboard()` (the links dashboards offer say which they came from); without it, every
control of that name on the page is set. A value a control cannot take is named on screen and the others still
apply. Training dashboards do not train at load: their status line asks for Train.
"""

from __future__ import annotations

import html
import math
import os
import sys
import warnings
import weakref
from contextlib import nullcontext
from urllib.parse import parse_qsl, quote, urlencode

import ipywidgets as W

# the controls whose value is one number, word or switch; a drawing board or a button has no place in a link
_NUMBERS = (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.BoundedFloatText, W.BoundedIntText)
_SHAREABLE = (*_NUMBERS, W.Dropdown, W.Checkbox, W.Text)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")

_page: list[weakref.ref] = []  # the dashboards built in this kernel, oldest first: what a link applies to


def shareable(controls: dict) -> dict[str, W.ValueWidget]:
    """The controls a link can carry, by name."""
    return {name: widget for name, widget in controls.items()
            if isinstance(widget, _SHAREABLE) and not isinstance(widget, W.Textarea)}


def as_text(value) -> str:
    """A control's value as a link writes it: exact (a float round-trips), short for the usual values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def bounds(widget) -> tuple[float, float]:
    if isinstance(widget, W.FloatLogSlider):
        return widget.base ** widget.min, widget.base ** widget.max
    return widget.min, widget.max


def parse(name: str, widget, text: str):
    """The value `text` means for `widget`; a ValueError naming `name` and `text` if the control cannot take it."""
    if isinstance(widget, W.Checkbox):
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"The '{name}' setting is a switch: true or false. Got {text!r} instead.")
    if isinstance(widget, W.Dropdown):
        for option in widget.options:
            value = option[1] if isinstance(option, tuple) else option
            if as_text(value) == text:
                return value
        allowed = [as_text(o[1] if isinstance(o, tuple) else o) for o in widget.options]
        raise ValueError(f"The '{name}' setting must be one of {allowed}. Got {text!r} instead.")
    if isinstance(widget, _NUMBERS):
        whole = isinstance(widget, (W.IntSlider, W.BoundedIntText))
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise ValueError(f"The '{name}' setting must be {kind}. Got {text!r} instead.") from None
        low, high = bounds(widget)
        slack = 1e-9 * (high - low)  # a written value may round to just past the end it was dragged to
        if not (math.isfinite(value) and low - slack <= value <= high + slack):
            raise ValueError(f"The '{name}' setting must be between {low:g} and {high:g} (the control's range). "
                             f"Got {text!r} instead.")
        return min(max(value, low), high)
    return text


TARGET = "dashboard"  # the query's key that names the dashboard a link is for


def link_query(values: dict, starting: dict, dashboard: str = "") -> str:
    """The query string for the `values` that differ from `starting` ('dashboard=optimizer&lr=0.3&beta=0.99');
    empty when none differs."""
    changed = {name: as_text(value) for name, value in values.items() if value != starting.get(name)}
    if not changed:
        return ""
    return urlencode({**({TARGET: dashboard} if dashboard else {}), **changed}, quote_via=quote)


def building_dashboard() -> str:
    """The name of the `*_dashboard()` function that is building a dashboard now ('optimizer' for
    `optimizer_dashboard`), found on the call stack; '' when none is."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name.endswith("_dashboard"):
            return frame.f_code.co_name.removesuffix("_dashboard")
        frame = frame.f_back
    return ""


def in_voila() -> bool:
    """Whether this kernel serves a Voilà page (preheated, or started for one request)."""
    return "VOILA_PREHEAT" in os.environ or "SCRIPT_NAME" in os.environ


def page_address(query: str) -> str:
    """Where `query` opens: the Voilà page's path once its request is known, else the notebook's Voilà path
    (JupyterLab names the notebook's file), else the query alone."""
    if os.environ.get("SCRIPT_NAME"):
        path = os.environ["SCRIPT_NAME"]
    elif os.environ.get("JPY_SESSION_NAME"):
        path = f"…/voila/render/{os.path.basename(os.environ['JPY_SESSION_NAME'])}"
    else:
        path = ""
    return f"{path}?{query}" if query else path


class SettingsLink:
    """The line under a dashboard: a link that opens the page with the dashboard's current settings."""

    def __init__(self, controls: dict, dashboard: str = ""):
        self.controls, self.dashboard = shareable(controls), dashboard
        self.starting = {name: widget.value for name, widget in self.controls.items()}
        self.widget = W.HTML(layout={"margin": "2px 0"})
        self.problem = ""  # what a followed link asked for and could not be set
        for widget in self.controls.values():
            widget.observe(self.refresh, names="value")
        self.refresh()

    def query(self, values: dict | None = None) -> str:
        """The link's query for the controls' current values, or for `values` where it names a control
        (a finished run's settings, for its export)."""
        values = values or {}
        current = {name: values.get(name, widget.value) for name, widget in self.controls.items()}
        return link_query(current, self.starting, self.dashboard)

    def refresh(self, *_) -> None:
        query = self.query()
        problem = (f'<div class="lab-link-problem" style="color:#6b0000">✖ {html.escape(self.problem)}</div>'
                   if self.problem else "")
        if not self.controls:
            self.widget.value = problem
            return
        if not query:
            text = "Move a control, and a link to this dashboard's settings appears here."
            self.widget.value = f'<span class="lab-link" style="color:#666">{text}</span>{problem}'
            return
        if in_voila():  # relative to the page: the same dashboard with this query
            link = (f'<a class="lab-link" href="?{html.escape(query)}" target="_blank" style="color:#1a5fb4;'
                    'text-decoration:underline">Link to these settings</a> <span style="color:#666">(the controls '
                    "moved from their starting values; open it or send it)</span>")
        elif os.environ.get("JPY_SESSION_NAME"):  # JupyterLab: the link belongs to the notebook's Voilà address
            link = (f'<span class="lab-link">these settings in Voilà: <code>{html.escape(page_address(query))}'
                    "</code></span>")
        else:
            link = (f'<span class="lab-link">these settings as a link: add <code>?{html.escape(query)}</code> to '
                    "this notebook's Voilà address</span>")
        self.widget.value = f'{link}{problem}'


def register(dashboard) -> None:
    """Remember `dashboard` as part of this kernel's page (what `follow_link` applies a link to)."""
    _page[:] = [ref for ref in _page if ref() is not None]
    _page.append(weakref.ref(dashboard))


def page_dashboards() -> list:
    return [d for d in (ref() for ref in _page) if d is not None]


def apply_query(query: str, dashboards: list) -> list[str]:
    """Set the controls `query` names on the dashboards it is for; the problems, in words (empty if none).

    A training dashboard is held while its controls change, so it waits for Train instead of training at load.
    Problems are told where the learner looks: a training dashboard's status line, else the link's line.
    """
    requested = parse_qsl(query, keep_blank_values=True)
    target = next((text for name, text in requested if name == TARGET), None)
    requested = [(name, text) for name, text in requested if name != TARGET]
    if target is not None:
        chosen = [d for d in dashboards if d.name == target]
        if not chosen:
            words = (f"The link is for a dashboard named {target!r}; this page has "
                     f"{sorted({d.name for d in dashboards if d.name})}.")
            if dashboards:
                tell(dashboards[0], words)
            return [words]
        dashboards = chosen
    problems = []
    for dashboard in dashboards:
        problems += apply_to(dashboard, [(name, text) for name, text in requested if name in dashboard.controls])
    known = {name for d in dashboards for name in shareable(d.controls)}
    unknown = sorted({name for name, _ in requested} - known)
    if unknown and dashboards:
        words = f"The link names settings this page does not have: {', '.join(unknown)}."
        tell(dashboards[0], words)
        problems.append(words)
    return problems


def apply_to(dashboard, requested: list[tuple[str, str]]) -> list[str]:
    """Set `requested` (name, text) pairs on `dashboard`'s controls; the values refused, in words."""
    controls = shareable(dashboard.controls)
    applied, refused = [], []
    for name, text in requested:
        try:
            applied.append((name, parse(name, controls[name], text)))
        except (KeyError, ValueError) as error:  # KeyError: a button's name is not a setting
            refused.append(str(error) if isinstance(error, ValueError) else f"'{name}' is not a setting.")
    panel = dashboard.panel
    with panel.held() if panel is not None else nullcontext():
        for name, value in applied:
            controls[name].value = value
    if panel is not None and requested:
        said = ", ".join(f"{name} = {as_text(value)}" for name, value in applied) or "nothing"
        panel.status.show(f"Settings from the link: {said}. Press {panel.buttons['train'].description} to run "
                          "them." + (f" Not applied: {' '.join(refused)}" if refused else ""),
                          "warning" if refused else "info")
    elif refused:
        tell(dashboard, " ".join(refused))
    return refused


def tell(dashboard, words: str) -> None:
    """Add `words` to what the dashboard says about its link: on its status line when it trains, else under the
    link."""
    if dashboard.panel is not None:
        status = dashboard.panel.status
        status.show(f"{status.text} {words}" if status.text.startswith("Settings from the link") else words,
                    "warning")
    else:
        dashboard.settings_link.problem = f"{dashboard.settings_link.problem} {words}".strip()
        dashboard.settings_link.refresh()


def request_query() -> str:
    """The query string of the Voilà request this kernel serves ('' in JupyterLab or nbval).

    A preheated kernel ran the notebook before anyone asked for it: Voilà's helper waits here until the request
    arrives and hands over its query string. Elsewhere Voilà puts it in the environment at kernel start.
    """
    if os.environ.get("VOILA_PREHEAT") == "True":
        from voila.utils import get_query_string  # only in a preheated Voilà kernel: it waits for the request

        with warnings.catch_warnings(record=True) as said:  # a failed connection is a warning: said on screen,
            warnings.simplefilter("always")                   # not printed under the page
            query = get_query_string()
        if query is None:
            raise ConnectionError("; ".join(str(w.message) for w in said) or "Voilà sent no request information")
        return query
    return os.environ.get("QUERY_STRING", "")


def follow_link() -> None:
    """The last cell of every notebook: the page's link settings applied to the dashboards above."""
    dashboards = page_dashboards()
    try:
        query = request_query()
    except Exception as error:  # the page still works; the learner is told a link's settings may be missing
        if dashboards:
            first = dashboards[0].settings_link
            first.problem = f"Settings in this page's address could not be read ({error}): the controls start as usual."
            first.refresh()
        return
    if query:
        apply_query(query, dashboards)
