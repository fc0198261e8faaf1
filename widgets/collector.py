"""Keep Python's cycle collector off the objects a lab kernel builds once and keeps.

A lab kernel holds ~200 k long-lived container objects (torch, plotly's validators, ipywidgets, the dashboards).
A full (generation-2) collection walks every one of them: 90–300 ms with the GIL held, on a 2-core machine
under load. One lands every few seconds while a run trains, and the slider press that arrives during it waits
the whole pause. `gc.freeze()` moves the objects that exist now into a permanent generation the collector
skips, so later collections only walk what was made after. Reference counting still frees frozen objects; only
cycles among them wait for `gc.unfreeze()`, a bounded cost for objects built once.
"""

import gc


def freeze_what_exists() -> None:
    """Collect young garbage (cheap: generations 0 and 1), then freeze every object that survives."""
    gc.collect(1)
    gc.freeze()
