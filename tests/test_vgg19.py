"""The opt-in VGG-19 loader, offline: a small state dict with torchvision's key names is "downloaded" by a stand-in
into a temporary torch cache; nothing touches the network."""

import urllib.error

import pytest
import torch

from lab import vgg19
from lab.vgg19 import VGG19_URL, VGG19Features, bytes_downloaded, load_vgg19_features, vgg19_downloaded, vgg19_file

# torchvision's vgg19().features: a Conv2d at each of these indices (ReLU and MaxPool in between)
TORCHVISION_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
SMALL = (4, 4, "M", 8, 8, "M", 8, 8, 8, 8, "M", 8, 8, 8, 8, "M", 8, 8, 8, 8, "M")  # the same layout, narrow


def test_the_state_dict_keys_and_shapes_are_torchvisions():
    state = VGG19Features().state_dict()
    assert list(state) == [f"features.{i}.{kind}" for i in TORCHVISION_CONVS for kind in ("weight", "bias")]
    assert state["features.0.weight"].shape == (64, 3, 3, 3) and state["features.34.weight"].shape == (512, 512, 3, 3)
    assert sum(t.numel() for t in state.values()) == 20_024_384  # VGG-19's convolutions, as torchvision counts them


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A torch cache in tmp_path and a stand-in for the download that writes a small VGG-19 state dict there."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # get_dir() reads TORCH_HOME unless set_dir was called
    calls = []
    source = VGG19Features(SMALL)
    torch.manual_seed(0)
    for p in source.parameters():
        p.data.normal_()
    published = {**source.state_dict(), "classifier.0.weight": torch.zeros(2, 2)}  # the file has the classifier too

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append(url)
        torch.save(published, dst)
    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    return calls, source


def test_the_weights_are_fetched_once_into_the_cache_and_load_by_name(cache, tmp_path):
    calls, source = cache
    assert not vgg19_downloaded() and bytes_downloaded() == 0
    network = load_vgg19_features(layout=SMALL)
    assert calls == [VGG19_URL] and vgg19_file() == tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert vgg19_downloaded() and bytes_downloaded() > 0
    assert all(torch.equal(network.state_dict()[k], v) for k, v in source.state_dict().items())
    load_vgg19_features(layout=SMALL)
    assert calls == [VGG19_URL]  # the second time it reads the cache
    out = network(torch.rand(3, 64, 64))
    assert [tuple(v.shape) for v in out.values()] == [(4, 64, 64), (8, 32, 32), (8, 16, 16), (8, 8, 8), (8, 4, 4)]
    assert all((v >= 0).all() for v in out.values())  # after ReLU


def test_a_file_without_the_convolutions_is_refused(cache, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda url, dst, *a, **k: torch.save({"x": 1}, dst))
    with pytest.raises(RuntimeError, match="Missing key"):
        load_vgg19_features(layout=SMALL)


def test_no_network_raises_an_os_error(cache, monkeypatch):
    def offline(*_args, **_kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(OSError, match="name resolution"):
        load_vgg19_features(layout=SMALL)
    assert not vgg19_downloaded()


def test_progress_counts_the_partial_file(cache):
    target = vgg19_file()
    target.parent.mkdir(parents=True)
    (target.parent / (target.name + ".0123abcd.partial")).write_bytes(b"x" * 1000)
    assert bytes_downloaded() == 1000 and not vgg19.vgg19_downloaded()
