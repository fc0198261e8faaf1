"""Every training lab's task trains on CUDA as it does on the CPU: the same tasks `.ci/gpu-check` times.

On the CPU (every run) the same checks hold, so a check that could never fail on the GPU would show here first.
"""

import math

import pytest
import torch
from lab_tasks import LAB_TASKS

STEPS = 30

DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=pytest.mark.gpu)]


def tensors_of(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_of(v)]
    return []


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", LAB_TASKS, ids=[case.lab for case in LAB_TASKS])
def test_each_lab_trains_on_the_device(case, device):
    task = case.build(torch.device(device))
    costs = []
    for _ in range(STEPS):
        cost, gradients = task.step()
        costs.append(float(cost))
    assert all(t.device.type == device for t in tensors_of(gradients) + [cost]), case.lab
    assert all(math.isfinite(c) for c in costs), costs
    first, last = sum(costs[:5]) / 5, sum(costs[-5:]) / 5
    assert last < first, f"{case.lab} on {device}: mean cost {first:.4g} in the first 5 steps, {last:.4g} in the last 5"
