"""Settings in a link, in Voilà: an address's query string sets the controls (a bad value is named, the others
apply, nothing trains at load), and the link a dashboard offers opens the page with the settings it showed."""

from __future__ import annotations

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from playwright.sync_api import expect
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider, dashboard, plot_data, readout

pytestmark = pytest.mark.browser

NOTEBOOK = "07_optimization.ipynb"
OPTIMIZERS = "Mini-batch cost J: update rules compared"
BATCHES = "Mini-batch cost J while training"


def chosen(board, label: str) -> str:
    """The text of the option the dropdown labelled `label` shows."""
    select = board.locator(".widget-dropdown").filter(has=board.page.locator("label", has_text=label)).first
    return select.locator("select").evaluate("s => s.options[s.selectedIndex].text")


def test_a_link_sets_the_controls_names_what_it_cannot_set_and_waits_for_train(page, voila_url):
    open_dashboard(page, voila_url, f"{NOTEBOOK}?optimizer=adam&lr=0.03&beta1=7&bogus=1")
    board = dashboard(page, OPTIMIZERS)
    assert chosen(board, "Optimizer") == "adam" and readout(board, "Learning rate α") == 0.03
    assert readout(board, "Adam β₁") == 0.9  # 7 is refused: the control keeps its value
    status = board.locator(".lab-status")
    expect(status).to_contain_text("Settings from the link: optimizer = adam, lr = 0.03. Press Train to run them.")
    expect(status).to_contain_text("Not applied: The 'beta1' setting must be between")
    first = dashboard(page, BATCHES)  # a name no dashboard has is told on the first one
    expect(first.locator(".lab-status")).to_contain_text("The link names settings this page does not have: bogus.")
    assert plot_data(board, OPTIMIZERS)["traces"] == []  # nothing trained at load
    screenshot(page, ARTIFACTS / "voila-settings-link.png")
    assert error_texts(page) == [] and page.errors.items == []


def test_the_link_a_dashboard_offers_opens_the_page_with_its_settings(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    board = dashboard(page, BATCHES)
    expect(board.locator(".lab-link")).to_contain_text("Move a control, and a link to this dashboard's settings")
    click_slider(board, "Mini-batch size", 0.3)
    choose(page, "Optimizer", "rmsprop")  # another dashboard's control: not in this dashboard's link
    batch, lr = readout(board, "Mini-batch size"), readout(board, "Learning rate α")
    link = board.locator("a.lab-link")
    expect(link).to_have_attribute("href", f"?dashboard=batch_size&batch_size={int(batch)}")

    open_dashboard(page, voila_url, NOTEBOOK + link.get_attribute("href"))
    board = dashboard(page, BATCHES)
    assert readout(board, "Mini-batch size") == batch and readout(board, "Learning rate α") == lr
    others = dashboard(page, OPTIMIZERS)  # the link named its dashboard: the others start as usual
    assert chosen(others, "Optimizer") == "gd" and readout(others, "Learning rate α") == 0.1
    expect(board.locator("a.lab-link")).to_have_attribute("href", f"?dashboard=batch_size&batch_size={int(batch)}")
    expect(board.locator(".lab-status")).to_contain_text(f"Settings from the link: batch_size = {int(batch)}.")
    assert error_texts(page) == [] and page.errors.items == []  # leaving the first page shut its kernel down
