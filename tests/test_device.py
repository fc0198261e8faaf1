import pytest
import torch

from lab import device as lab_device
from lab.device import configure_threads, cpu_quota, describe_device, select_device, warm_up


def test_lab_device_cpu_override(monkeypatch):
    monkeypatch.setenv("LAB_DEVICE", "cpu")
    assert select_device() == torch.device("cpu")


def test_unknown_device_kind_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("LAB_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"The 'device' parameter \(LAB_DEVICE\) must be one of .* Got 'tpu'"):
        select_device()


def test_asking_for_a_missing_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(lab_device, "_available", lambda kind: kind == "cpu")
    with pytest.raises(ValueError, match="asks for 'cuda', but this machine has no such device"):
        select_device("cuda")


def test_automatic_choice_prefers_cuda_then_mps_then_cpu(monkeypatch):
    for present, expected in [({"cpu", "cuda", "mps"}, "cuda"), ({"cpu", "mps"}, "mps"), ({"cpu"}, "cpu")]:
        monkeypatch.setattr(lab_device, "_available", lambda kind, present=present: kind in present)
        assert select_device().type == expected


def test_cpu_quota_reads_cgroup_v2_and_v1(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cpu_quota(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_quota(tmp_path) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("400000")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert cpu_quota(tmp_path) == 4
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert cpu_quota(tmp_path) is None


def test_threads_leave_a_core_for_the_server_and_browser(monkeypatch):
    monkeypatch.delenv("LAB_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(lab_device, "usable_cpus", lambda: 4)
        assert configure_threads() == 3 and torch.get_num_threads() == 3
        monkeypatch.setattr(lab_device, "usable_cpus", lambda: 1)
        assert configure_threads() == 1
        assert describe_device(torch.device("cpu")) == "CPU, 1 thread"
        monkeypatch.setenv("LAB_THREADS", "2")
        assert configure_threads() == 2
        monkeypatch.setenv("LAB_THREADS", "zero")
        with pytest.raises(ValueError, match="The 'threads' parameter \\(LAB_THREADS\\) must be a whole number"):
            configure_threads()
    finally:
        torch.set_num_threads(before)


def test_warming_up_sizes_the_thread_pool_and_leaves_autograd_ready(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("LAB_THREADS", "1")
        assert warm_up() == 1 and torch.get_num_threads() == 1
        x = torch.tensor(3.0, requires_grad=True)
        (x * x).backward()
        assert x.grad.item() == 6.0  # the warm-up left no state behind that changes a later gradient
    finally:
        torch.set_num_threads(before)


def test_usable_cpus_are_capped_by_the_quota(monkeypatch):
    monkeypatch.setattr(lab_device, "cpu_quota", lambda: 1)
    assert lab_device.usable_cpus() == 1


@pytest.mark.gpu
def test_cuda_is_chosen_and_named_when_present():
    device = select_device()
    assert device.type == "cuda"
    assert describe_device(device) == torch.cuda.get_device_name(device)
