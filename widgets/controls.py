"""Standard controls, built from `lab.params` so a slider can only offer values the backend accepts."""

from __future__ import annotations

import math

import ipywidgets as W

from lab.params import PARAMS, Param

LABEL_STYLE = {"description_width": "initial"}
CONTROL_LAYOUT = {"width": "420px"}


def control(name: str, *, label: str | None = None, value=None, low=None, high=None, step=None,
            readout_format: str | None = None, continuous_update: bool = False, width: str | None = None,
            ) -> W.ValueWidget:
    """The standard control for parameter `name`, optionally showing a narrower range than allowed.

    Log-scale parameters get a FloatLogSlider, whole numbers an IntSlider, choices a Dropdown. `label`
    replaces the declared label where a lab uses the parameter in a narrower sense ("Init factor (random
    only)"); the tooltip stays the declared help. `continuous_update=False` by default: a training lab
    restarts once, when the slider is released.
    """
    p: Param = PARAMS[name]
    common = {"description": label or p.label, "tooltip": p.help, "style": LABEL_STYLE,
              "layout": {**CONTROL_LAYOUT, **({"width": width} if width else {})}}
    value = p.default if value is None else value
    if p.options:
        return W.Dropdown(options=[(o.replace("_", " "), o) for o in p.options], value=p.validate(value), **common)
    low = p.slider_range[0] if low is None else low
    high = p.slider_range[1] if high is None else high
    for bound in (low, high, value):  # what the slider shows must be what the backend accepts
        p.validate(bound)
    if p.log:
        return W.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high),
                                step=step or 0.05, readout_format=readout_format or ".2g",
                                continuous_update=continuous_update, **common)
    if p.integer:
        return W.IntSlider(value=value, min=int(low), max=int(high), step=int(step or p.step or 1),
                           continuous_update=continuous_update, **common)
    step = step or p.step or (high - low) / 100
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0  # 0.001 → ".3f": β₂ = 0.999 reads 0.999
    return W.FloatSlider(value=value, min=low, max=high, step=step, readout_format=readout_format or f".{decimals}f",
                         continuous_update=continuous_update, **common)


def checkbox(label: str, tooltip: str, value: bool = False) -> W.Checkbox:
    """A labelled on/off control with a tooltip, in the same look as the sliders."""
    return W.Checkbox(value=value, description=label, tooltip=tooltip, style=LABEL_STYLE, indent=False,
                      layout=dict(CONTROL_LAYOUT))


def choice(label: str, tooltip: str, options: list[tuple[str, str]], value: str | None = None) -> W.Dropdown:
    """A dropdown of (shown text, value) pairs for a choice that is not a declared parameter (a view's mode)."""
    return W.Dropdown(options=options, value=options[0][1] if value is None else value, description=label,
                      tooltip=tooltip, style=LABEL_STYLE, layout=dict(CONTROL_LAYOUT))


def button(label: str, tooltip: str, style: str = "") -> W.Button:
    """A labelled button with a tooltip; `style` is one of ipywidgets' button styles ("primary", …)."""
    return W.Button(description=label, tooltip=tooltip, button_style=style, layout={"width": "auto"})
