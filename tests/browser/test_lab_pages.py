"""The in-page recorder of the kernel's widgets (lab_pages.RECORDER_JS), fed kernel messages framed as Jupyter
Server frames them: what it counts, and that a message it cannot read fails the wait instead of passing it."""

from __future__ import annotations

import json

import pytest
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
from lab_pages import wait_for_widgets

pytestmark = pytest.mark.browser

V1 = "v1.kernel.websocket.jupyter.org"


def message(msg_type: str, content: dict) -> dict:
    return {"header": {"msg_type": msg_type, "msg_id": "m"}, "parent_header": {}, "metadata": {},
            "content": content, "channel": "iopub"}


def v1_frame(msg_type: str, content: dict, buffers: tuple[bytes, ...] = ()) -> list[int]:
    """A binary frame as Jupyter Server sends it to a page that speaks the v1 protocol."""
    msg = message(msg_type, content)
    parts = [json.dumps(msg[key]).encode() for key in ("header", "parent_header", "metadata", "content")]
    return list(serialize_msg_to_ws_v1([*parts, *buffers], "iopub"))


def receive(page, frame, protocol: str = V1) -> None:
    """Hand the recorder one websocket message: bytes (a list of ints) or text."""
    page.evaluate("""([frame, protocol]) => window.__labKernelWidgets.receive(
        typeof frame === 'string' ? frame : new Uint8Array(frame).buffer, protocol)""", [frame, protocol])


def test_the_recorder_counts_what_the_kernel_sends(page):
    page.goto("data:text/html,<title>recorder</title>")
    widgets = page.kernel_widgets
    receive(page, v1_frame("comm_open", {"comm_id": "s", "target_name": "jupyter.widget",
                                         "data": {"state": {"_model_name": "FloatSliderModel"}}}))
    figure = {"_model_name": "AnyModel", "_anywidget_id": "plotly.graph_objs._figurewidget.FigureWidget",
              "_widget_data": [{"type": "scatter"}, {"type": "bar"}]}
    states = {"f": {"model_name": "AnyModel", "state": figure},
              "h": {"model_name": "HTMLModel", "state": {"_model_name": "HTMLModel"}},
              "b": {"model_name": "ButtonModel", "state": {"_model_name": "ButtonModel"}},
              "l": {"model_name": "LayoutModel", "state": {"_model_name": "LayoutModel"}}}
    receive(page, v1_frame("comm_msg", {"comm_id": "control", "data": {"method": "update_states", "states": states,
                                                                      "buffer_paths": [["f", "state", "x"]]}},
                           buffers=(b"\x00" * 64,)))
    assert widgets.counts() == {"FigureWidget": 1, "slider": 1, "Dropdown": 0, "Button": 1, "HTML": 1}
    assert widgets.trace_counts() == [2]

    add = {"_py2js_addTraces": {"trace_data": [{"type": "scatter"}]}}
    receive(page, v1_frame("comm_msg", {"comm_id": "f", "data": {"method": "update", "state": add}}))
    assert widgets.trace_counts() == [3]
    delete = {"_py2js_deleteTraces": {"delete_inds": [0, 1]}}
    receive(page, v1_frame("comm_msg", {"comm_id": "f", "data": {"method": "update", "state": delete}}))
    assert widgets.trace_counts() == [1]
    full = {"_widget_data": [{"type": "scatter"}] * 4, "_py2js_addTraces": None}
    receive(page, v1_frame("comm_msg", {"comm_id": "f", "data": {"method": "update", "state": full}}))
    assert widgets.trace_counts() == [4]

    receive(page, v1_frame("comm_close", {"comm_id": "s", "data": {}}))  # a closed widget need not show
    # the JSON text framing of a server without the v1 protocol
    dropdown = message("comm_open", {"comm_id": "d", "data": {"state": {"_model_name": "DropdownModel"}}})
    receive(page, json.dumps(dropdown), protocol="")
    assert widgets.counts() == {"FigureWidget": 1, "slider": 0, "Dropdown": 1, "Button": 1, "HTML": 1}


def test_a_message_the_recorder_cannot_read_fails_the_wait(page):
    page.goto("data:text/html,<title>recorder</title>")
    receive(page, [1, 2, 3])
    with pytest.raises(AssertionError, match="could not read the kernel's messages"):
        wait_for_widgets(page, timeout=5)


def test_the_wait_fails_naming_what_never_rendered(page):
    page.goto("data:text/html,<div class='jp-OutputArea-output'></div>")
    receive(page, v1_frame("comm_open", {"comm_id": "s", "data": {"state": {"_model_name": "IntSliderModel"}}}))
    with pytest.raises(AssertionError, match=r"still lacks slider \(0 of 1\)"):
        wait_for_widgets(page, timeout=2)
