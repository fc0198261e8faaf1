import gc
import weakref

from widgets.collector import freeze_what_exists
from widgets.dashboards.logistic_regression import sigmoid_dashboard


class Node:
    pass


def test_building_a_dashboard_takes_what_exists_out_of_full_collections():
    gc.unfreeze()
    kept = []
    kept.append(kept)  # a container the collector walks in every full collection, until it is frozen
    sigmoid_dashboard()
    assert not any(obj is kept for generation in (0, 1, 2) for obj in gc.get_objects(generation))
    assert gc.get_freeze_count() > 10_000  # the kernel's imports: torch, plotly, ipywidgets, the dashboard


def test_garbage_is_collected_before_the_freeze_not_kept_forever():
    gc.unfreeze()
    node = Node()
    node.self = node  # a cycle: only the collector frees it
    gone = weakref.ref(node)
    del node
    freeze_what_exists()
    assert gone() is None
