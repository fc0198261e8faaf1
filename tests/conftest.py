import os

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    """GPU-marked tests run only where CUDA is present; elsewhere they are reported as skipped."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_device_override(monkeypatch):
    """Tests choose devices explicitly; a LAB_DEVICE in the caller's shell must not leak in."""
    if "LAB_DEVICE" in os.environ:
        monkeypatch.delenv("LAB_DEVICE")
