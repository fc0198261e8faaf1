"""One hidden LeavePage widget per kernel, whatever the number of dashboards; the browser side is tested in
tests/browser/test_voila_leave_page.py."""

from ipywidgets.widgets.widget import _instances

from widgets import leave_page
from widgets.dashboard import Dashboard


def leave_page_widgets() -> list:
    return [w for w in _instances.values() if type(w).__name__ == "LeavePage"]


def test_every_dashboard_shares_the_kernels_one_leave_page_widget():
    Dashboard([])
    Dashboard([])
    alive = leave_page_widgets()
    assert len(alive) == 1 and "_xsrf=" in alive[0]._esm and "SameSite=Strict" in alive[0]._esm


def test_a_closed_one_is_made_again():
    Dashboard([])
    leave_page_widgets()[0].close()
    assert leave_page.ensure() and len(leave_page_widgets()) == 1
