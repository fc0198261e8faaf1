"""Widgets that a dashboard builds share their Layout and Style models when those are equal.

ipywidgets gives every widget a Layout model and most a Style model of their own, even when they are empty or
equal to the next widget's: lab 11's page had 305 widget models, 182 of them layouts and styles. Each model is a
message from the kernel through the server and a model the browser builds before it draws anything. While a
`*_dashboard()` function builds its widgets (found on the call stack, as `widgets.settings_link` finds the
dashboard's name), a layout or style given as a dict, or left to its default, is one shared instance per distinct
value instead: lab 11's page has 134 models, and a load of it takes 0.3-1.5 s less CPU in the kernel, server and
browser together (README, "Measured 2026-12-06").

A shared layout or style cannot change: setting one of its values raises, and says to give the widget a layout
(or style) of its own, an instance (`layout=W.Layout(...)`), which is never shared. Widgets built outside a
dashboard (a learner's own, in a notebook) are left as ipywidgets makes them.
"""

from __future__ import annotations

import functools
import json

from ipywidgets.widgets.trait_types import InstanceDict

from widgets.settings_link import building_dashboard

_SHARED: dict[tuple[type, str], object] = {}


def install() -> None:
    """Make ipywidgets' layout and style traits share equal instances within dashboards (once per process)."""
    if getattr(InstanceDict, "_lab_shared_looks", False):
        return
    validate, make_dynamic_default = InstanceDict.validate, InstanceDict.make_dynamic_default

    def validate_shared(self, obj, value):
        if isinstance(value, dict) and building_dashboard():
            value = shared(self.klass, value)
        return validate(self, obj, value)

    def default_shared(self):
        if not self.default_args and building_dashboard():
            return shared(self.klass, self.default_kwargs or {})
        return make_dynamic_default(self)

    InstanceDict.validate, InstanceDict.make_dynamic_default = validate_shared, default_shared
    InstanceDict._lab_shared_looks = True


def shared(klass: type, values: dict):
    """The one sealed instance of `klass` with `values`."""
    key = (klass, json.dumps(values, sort_keys=True, default=str))
    if key not in _SHARED:
        instance = sealed_class(klass)(**values)
        instance._lab_sealed = True
        _SHARED[key] = instance
    return _SHARED[key]


@functools.cache
def sealed_class(klass: type) -> type:
    """`klass` (a Layout or a Style) whose synced values cannot change once it is made: the same model in the
    browser, since it keeps its parent's model name."""

    def set_unless_sealed(self, name, value):
        if getattr(self, "_lab_sealed", False) and name in self.keys and not name.startswith("_"):
            raise AttributeError(f"this {klass.__name__} is shared by every widget of its dashboard that looks the "
                                 f"same, so its {name!r} cannot change here; give the widget one of its own "
                                 f"(layout=W.Layout(...), style=...) where it is made")
        super(sealed, self).__setattr__(name, value)

    sealed = type(f"Shared{klass.__name__}", (klass,), {"__setattr__": set_unless_sealed, "__module__": __name__})
    return sealed
