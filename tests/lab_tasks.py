"""Each training lab's task, built on a given device the way its dashboard builds it.

`.ci/gpu-check` uses these twice: `tests/test_gpu_labs.py` trains each on CUDA (and on the CPU, here), and
`tests/benchmarks/bench_devices.py` times a step of each on both. Only torch, numpy, scikit-learn and
scikit-image are needed: no plotly, no widgets, no GloVe file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab.batch_norm_network import BatchNormTraining
from lab.batch_norm_network import make_network as batch_norm_network
from lab.data.digits import load_digits, load_digits_multiclass, load_digits_parity
from lab.data.faces import load_faces
from lab.data.planar import make_planar
from lab.deep_network import DeepNetwork, DeepNetworkTask
from lab.face_verification import TripletTraining
from lab.feature_network import RandomFeatures
from lab.lenet import LeNetTraining, digit_images
from lab.logistic import LogisticRegression
from lab.multitask import MultiTaskTraining
from lab.optimization import MiniBatchTraining
from lab.recall_task import RecallTraining
from lab.residual import DeepMLPTraining, make_pair
from lab.seeding import make_generator
from lab.shallow_network import ShallowNetwork, ShallowNetworkTask
from lab.softmax import SoftmaxTraining
from lab.softmax import make_network as softmax_network
from lab.style_transfer import StyleConfig, StyleTransfer
from lab.yolo import DetectorConfig, DetectorTraining


@dataclass(frozen=True)
class LabTask:
    lab: str  # "07 mini-batch Adam": the notebook's number first
    step: str  # what one step is
    build: Callable[[torch.device], object]  # the task on a device; `.step()` → (cost, gradients)


def _logistic(device):
    return LogisticRegression(load_faces().to(device), 0.005, "cross_entropy")


def _shallow(device):
    X, Y = make_planar(seed=0)
    network = ShallowNetwork(2, 8, "tanh", 1.0, generator=make_generator(0), device=device)
    return ShallowNetworkTask(network, X.to(device), Y.to(device), 1.2)


def _deep(device):
    data = load_digits_parity().to(device)
    network = DeepNetwork([64] + [16] * 7 + [1], "tanh", "he", generator=make_generator(0, device), device=device)
    return DeepNetworkTask(network, data.X_train, data.Y_train, 0.1)


def _regularized(device):
    data = load_digits_parity(sizes=(100, 400, 400)).to(device)
    network = DeepNetwork([64, 64, 64, 1], "relu", "he", generator=make_generator(0, device), device=device)
    return DeepNetworkTask(network, data.X_train, data.Y_train, 0.2, lambd=0.5, keep_prob=0.8)


def _mini_batches(device):
    return MiniBatchTraining(load_digits().to(device), batch_size=128, optimizer="adam", lr=0.001)


def _batch_norm(device):
    data = load_digits_multiclass().to(device)
    network = batch_norm_network(64, 10, batch_norm=True, depth=6, seed=0, device=device)
    return BatchNormTraining(network, data, lr=0.5, batch_size=64, num_epochs=10)


def _softmax(device):
    data = load_digits_multiclass().to(device)
    network = softmax_network("by_hand", 64, 32, 10, seed=0, device=device)
    return SoftmaxTraining(network, data, lr=0.5, batch_size=64)


def _multitask(device):
    return MultiTaskTraining(True, 500, 0.2, device=device)


def _lenet(device):
    return LeNetTraining(digit_images().to(device), lr=0.003, batch_size=32)


def _residual(device):
    model = make_pair(20, 32, device=device)["residual"]
    return DeepMLPTraining(model, load_digits_multiclass().to(device), lr=0.001, batch_size=64)


def _detector(device):
    return DetectorTraining(DetectorConfig(), device)


def _triplets(device):
    return TripletTraining(device=device)


def _style(device):
    return StyleTransfer(StyleConfig(), RandomFeatures(seed=0), device)


def _recall(device):
    return RecallTraining("lstm", 20, device=device)


LAB_TASKS: list[LabTask] = [
    LabTask("01 logistic regression", "full batch, 150 photos", _logistic),
    LabTask("03 shallow network", "full batch, 400 points", _shallow),
    LabTask("04 deep network (L=8)", "full batch, 1,200 digits", _deep),
    LabTask("05 regularization", "full batch, λ and dropout", _regularized),
    LabTask("07 mini-batch Adam", "128 digits", _mini_batches),
    LabTask("09 batch norm (L=6)", "64 digits", _batch_norm),
    LabTask("10 softmax", "64 digits", _softmax),
    LabTask("11 multi-task", "full batch, 500 digits", _multitask),
    LabTask("13 LeNet-5", "32 digits, 32×32", _lenet),
    LabTask("13 residual MLP (L=20)", "64 digits", _residual),
    LabTask("14 YOLO detector", "32 scenes, conv net", _detector),
    LabTask("15 triplet embedding", "64 triplets", _triplets),
    LabTask("16 style transfer", "one image, 128 px", _style),
    LabTask("17 LSTM recall (T=20)", "64 sequences", _recall),  # lab 17's names model needs the `names`
    # package, which the bare GPU machine lacks; its cells are the ones trained here
]

# Labs with no task here, and why: said under the table so that nobody wonders.
ON_THE_CPU_BY_DESIGN = ("02 backprop, 06 input normalization, 08 search (one process per trial) and 18 skip-gram "
                        "run on the CPU by design (each step moves a few thousand numbers): not timed here.")
