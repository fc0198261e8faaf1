"""A kernel a learner leaves is shut down at once, not an hour later: see `js/leave_page.js`.

One hidden widget per kernel carries the page-side fix; its code runs when the page receives the kernel's widgets,
whether or not anything displays it.
"""

from __future__ import annotations

from importlib import resources

_made: list = []  # this kernel's one LeavePage widget, once made


def ensure() -> bool:
    """Make this kernel's hidden LeavePage widget if it has none; False where anywidget is missing."""
    try:
        import anywidget
    except ImportError:
        return False
    if _made and _made[0].comm is not None:
        return True

    class LeavePage(anywidget.AnyWidget):
        """Never displayed: gives a Voilà page the _xsrf cookie its kernel-shutdown beacon needs."""

        _esm = resources.files("widgets").joinpath("js", "leave_page.js").read_text(encoding="utf-8")

    _made[:] = [LeavePage()]
    return True
