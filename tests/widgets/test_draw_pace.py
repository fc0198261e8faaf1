"""DrawPace against plotly's own edit bookkeeping, with the browser's answers simulated as the front ends send them
after each drawn edit: the lab's lean build both (.ci/plotly-widget-answers.patch), plotly's own bundle only the
traces' (its layout answer goes to "_js2py_widget_layoutDelta", a name no trait has)."""

import threading
import time

import plotly.graph_objects as go

from lab.training import DoneEvent, StepEvent
from widgets.draw_pace import DrawPace, edit_pending
from widgets.runner import Runner
from widgets.status import StatusLine
from widgets.training_panel import TrainingPanel
from widgets.views.cost_curves import CostCurves


def answer(figure: go.FigureWidget) -> None:
    """What the lean build sends once it has drawn the figure's latest edit."""
    figure._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": figure._last_trace_edit_id}
    figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": figure._last_layout_edit_id}


def answer_as_plotlys_own_bundle(figure: go.FigureWidget) -> None:
    """What plotly's own bundle sends: the traces' answer; the layout's never reaches a trait."""
    figure.set_state({"_js2py_traceDeltas": {"trace_deltas": [], "trace_edit_id": figure._last_trace_edit_id},
                      "_js2py_widget_layoutDelta": {"layout_delta": {}, "layout_edit_id": figure._last_layout_edit_id}})


def edited_figure() -> go.FigureWidget:
    figure = go.FigureWidget()
    figure.add_scatter(x=[0], y=[1.0])
    return figure


def test_a_figure_no_browser_answers_never_holds_a_push_back():
    figure, pace = edited_figure(), DrawPace(patience=60)
    pace.watch([figure])
    assert edit_pending(figure)  # sent, never answered: no page is open
    assert pace.drawn()


def test_pushes_wait_until_the_browser_has_drawn_the_last_edit():
    figure, pace = edited_figure(), DrawPace(patience=60)
    pace.watch([figure, figure])  # watched once
    answer(figure)
    assert not edit_pending(figure) and pace.drawn()
    figure.data[0].y = [2.0]
    assert edit_pending(figure) and not pace.drawn()
    old_trace_edit = figure._last_trace_edit_id
    figure.layout.title.text = "new"  # a second edit in flight: the reply to the first does not settle it
    figure._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": old_trace_edit}
    assert not pace.drawn()
    answer(figure)
    assert pace.drawn()


def test_with_plotlys_own_bundle_a_drawn_trace_edit_releases_the_pushes():
    """Its layout answers never arrive, so plotly's layout flag stays set after the first edit: counted as pending,
    every routine push waited out the patience (a live curve drawn once a second instead of ten times)."""
    figure, pace = edited_figure(), DrawPace(patience=60)
    pace.watch([figure])
    answer_as_plotlys_own_bundle(figure)
    assert figure._layout_edit_in_process  # plotly's own flag: never settled by this front end
    assert pace.drawn()
    figure.data[0].y = [2.0]
    assert not pace.drawn()  # the trace edit is still waited for
    answer_as_plotlys_own_bundle(figure)
    assert pace.drawn()


def test_a_page_that_stopped_answering_holds_pushes_back_only_for_the_patience():
    figure, pace = edited_figure(), DrawPace(patience=0.05)
    pace.watch([figure])
    answer(figure)
    figure.data[0].y = [3.0]
    assert not pace.drawn()
    time.sleep(0.06)
    assert pace.drawn()


def test_the_runner_holds_routine_pushes_but_never_the_first_step_or_the_end():
    pushes, ready = [], threading.Event()

    def work(cancel):
        for step in range(1, 6):
            yield "run", StepEvent(step, 1.0 / step, {})
            time.sleep(0.03)
        yield "run", DoneEvent(steps=5, cancelled=False, seconds=0.15)

    runner = Runner(StatusLine(), pushes.append, interval=0.0, ready=ready.is_set)
    runner.start(work, "run")
    assert runner.wait(5)
    assert [len(batch) for batch in pushes] == [1, 5]  # first step at once; the rest held, sent with the end
    assert isinstance(pushes[-1][-1][1], DoneEvent)


def test_the_panel_says_whether_the_browser_had_caught_up_before_each_push():
    seen = []
    costs = CostCurves("cost")
    gate = threading.Event()

    def work(_run, cancel):
        yield StepEvent(1, 1.0, {})  # urgent: pushed at once
        gate.wait(5)
        yield DoneEvent(1, False, 0.0)

    panel = TrainingPanel({}, work, label=lambda c: "run", costs=costs,
                          on_update=lambda run, items: seen.append(panel.browser_idle))
    costs.figure.layout.title.text = "answered once"
    answer(costs.figure)  # a page is open and has drawn everything
    panel.start()
    time.sleep(0.2)  # the first step's push has sent the new line; the page has not drawn it yet
    gate.set()
    assert panel.runner.wait(5)
    assert seen == [True, False]  # idle before the first push; still drawing it when the end came
