"""Every public lab function that takes a declared parameter, fed bad values for it.

The functions are found, not listed: every public function and class of every module of `lab` whose
signature has an argument named like a declaration in `lab.params` (after `all_params()` has imported every
topic), or passed to `validate` under a declared name (`load_photo(name)` is validated as 'photo'). For each
such argument the test feeds NaN, ±inf, negatives, zero, the tiniest positive floats, 1e30, 2⁷⁰ and wrong types
(a string, None, a list, a bool), then values hypothesis draws (derandomized, so a run is reproducible).
The call must either

- raise ValueError or TypeError whose message names the parameter ('lr', or a topic's alias such as
  'window_stride' for a sliding window's stride), or
- return, and then only for a value the declaration allows (or None where the signature allows None), with
  nothing non-finite in the result (no NaN or ±inf in a tensor, number or text it returns).

Anything else — another exception, a silently accepted bad value, a NaN in the result — fails. The only
hand-written part is `BUILDERS`: how to make small valid values for each function's *other* arguments. A newly
added function whose other arguments have no defaults fails `test_every_discovered_function_can_be_called`
until it gets a builder.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import itertools
import math
import pkgutil
import re
import textwrap
from collections.abc import Callable, Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lab
from lab.params import all_params

PARAMS = all_params()
SCALAR_TYPES = {"int", "float", "str", "bool", "None"}

# Arguments that share a declared name but are not that knob; everything else named like a declaration is fuzzed.
NOT_THE_KNOB = {
    ("lab.lr_decay.set_learning_rate", "optimizer"): "an optimizer object, not the option 'gd'/'adam'/…",
}
# Arguments named like a declaration whose own range is wider, with the rule they follow instead.
OWN_RULE = {
    ("lab.lr_decay.set_learning_rate", "lr"): lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # a scheduled α, not the slider's α₀: it decays below the slider's range, and the notes' schedule makes it
    # ±inf or negative on purpose (ERRATA 9); any real number is written, anything else is a TypeError
}
# The notes' mistakes, kept to show how they fail: an infinite α (ERRATA 9) or NaN weights (ERRATA 8) is their point.
NON_FINITE_BY_DESIGN = {"lab.lr_decay.notes_inverse_time", "lab.lr_decay.notes_schedule", "lab.optimizers.NotesRMSprop",
                        "lab.softmax.compare_softmax"}  # it reports the naive formula's overflow (ERRATA 11)


def _modules() -> Iterator:
    for info in pkgutil.walk_packages(lab.__path__, "lab."):
        yield importlib.import_module(info.name)


def _is_scalar_knob(parameter: inspect.Parameter) -> bool:
    """False for an argument annotated only with non-scalar types (a tensor called z, a Surface called surface)."""
    annotation = parameter.annotation
    if annotation is inspect.Parameter.empty:
        return True
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return any(part.strip() in SCALAR_TYPES for part in text.split("|"))


def _validated_aliases(obj: Callable, arguments: set[str]) -> dict[str, str]:
    """{argument: declaration} for every `validate("declaration", argument)` in obj's own source, e.g. load_photo's
    `validate("photo", name)`: an argument validated under a declared name it does not carry itself."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "validate"
                and len(node.args) == 2 and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in PARAMS and isinstance(node.args[1], ast.Name)
                and node.args[1].id in arguments and node.args[1].id not in PARAMS):
            found[node.args[1].id] = node.args[0].value
    return found


def discover() -> list[tuple[str, Callable, str, str]]:
    """(qualified name, callable, argument, its declaration) for every public function and class of lab with an
    argument that is a declared parameter: named like one, or passed to `validate` under a declared name."""
    found = []
    for module in _modules():
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if obj.__module__ != module.__name__:  # imported from elsewhere: tested where it is defined
                continue
            try:
                signature = inspect.signature(obj)
            except (TypeError, ValueError):
                continue
            qualified = f"{module.__name__}.{name}"
            aliases = _validated_aliases(obj, set(signature.parameters))
            for argument, parameter in signature.parameters.items():
                declared = argument if argument in PARAMS else aliases.get(argument)
                if (declared is not None and _is_scalar_knob(parameter)
                        and (qualified, argument) not in NOT_THE_KNOB):
                    found.append((qualified, obj, argument, declared))
    return found


# ---- small valid values for the other arguments ---------------------------------------------------------------

def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _split():
    from lab.data.split import split_columns

    X = torch.rand(2, 12, generator=_gen())
    return split_columns(X, (X[:1] > 0.5).float(), 0.25, 0, class_names=("0", "1"))


def _class_split():
    from lab.data.split import split_columns

    X = torch.rand(4, 12, generator=_gen())
    return split_columns(X, torch.arange(12).reshape(1, 12) % 3, 0.25, 0, class_names=("0", "1", "2"))


def _three_way():
    from lab.data.split import train_dev_test_split

    X = torch.rand(4, 16, generator=_gen())
    return train_dev_test_split(X, (X[:1] > 0.5).float(), (8, 4, 4), 0, class_names=("0", "1"), image_shape=(2, 2))


def _net_params():
    from lab.initialization import initialize_parameters

    return initialize_parameters([2, 3, 1], generator=_gen(), dtype=torch.float64)


def _forward_state() -> dict:
    from lab.deep_network import forward_propagation

    params, X = _net_params(), torch.rand(2, 4, generator=_gen(), dtype=torch.float64)
    AL, caches = forward_propagation(params, X)
    return {"AL": AL, "Y": torch.ones(1, 4, dtype=torch.float64), "caches": caches, "params": params}


def _task(**extra):
    from lab.deep_network import DeepNetwork, DeepNetworkTask

    X, Y = torch.rand(2, 6, generator=_gen()), torch.tensor([[0.0, 1, 0, 1, 0, 1]])
    return DeepNetworkTask(DeepNetwork([2, 3, 1], generator=_gen()), X, Y, 0.1, X_dev=X, Y_dev=Y, **extra)


def _softmax_training() -> dict:
    from lab.data.split import ThreeWaySplit
    from lab.softmax import make_network

    X, Y = torch.rand(2, 64, generator=_gen()), torch.arange(64).remainder(3).reshape(1, 64)  # m = batch size 64
    return {"network": make_network("by_hand", 2, 0, 3),
            "data": ThreeWaySplit(X, Y, X, Y, X, Y, class_names=("0", "1", "2"))}


def _leaf():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    w.grad = torch.tensor([0.5, 0.25])
    return [w]


def _boxes() -> dict:
    return {"boxes": torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]),
            "scores": torch.tensor([0.9, 0.8, 0.7])}


def _prediction() -> torch.Tensor:
    return torch.rand(2, 2, 2, 8, generator=_gen())  # (S, S, A, 5 + C) in [p_c, b_x, b_y, b_w, b_h, classes] form


def _detections():
    from lab.detection import decode_yolo

    return decode_yolo(_prediction(), image_size=64.0)


def _scenes():
    from lab.data.scenes import make_scenes

    return make_scenes(2, 0)


def _tiny_yolo():
    from lab.yolo import TinyYolo

    return TinyYolo(width=2)


def _surface_fields() -> dict:
    from lab.loss_surface import SURFACES

    bowl = SURFACES["bowl"]
    return {f.name: getattr(bowl, f.name) for f in dataclasses.fields(bowl) if f.name != "lr"}


def _check_problem() -> dict:
    from lab.backprop import CheckNetwork

    network = CheckNetwork()
    return {"f": network.cost_and_gradients, "params": network.params}


def _shallow():
    from lab.shallow_network import ShallowNetwork

    return ShallowNetwork(2, 3, generator=_gen())


def _bn_data():
    from lab.data.split import ThreeWaySplit

    X, Y = torch.rand(4, 64, generator=_gen()), torch.arange(64).remainder(3).reshape(1, 64)  # m = batch size 64
    return ThreeWaySplit(X, Y, X, Y, X, Y, class_names=("0", "1", "2"))


def _bn_network(batch_norm: bool = True):
    from lab.batch_norm_network import make_network

    return make_network(4, 3, batch_norm=batch_norm, depth=3, hidden_units=4)


def _bn_snapshots():
    from lab.batch_norm_network import BatchNormTraining

    return BatchNormTraining(_bn_network(), _bn_data(), lr=0.1, batch_size=16, num_epochs=1).snapshots


def _bn_tensors() -> dict:
    Z = torch.rand(3, 5, generator=_gen())
    return {"Z": Z, "gamma": torch.ones(3, 1), "beta": torch.zeros(3, 1)}


BUILDERS: dict[str, Callable[[], dict]] = {
    "lab.minibatch.EpochBatches": lambda: {"m": 10, "generator": _gen()},
    "lab.sequence.make_cell": lambda: {"kind": "gru", "input_size": 2, "hidden_size": 3},
    "lab.through_time.gradients_through_time": lambda: {"kind": "lstm", "length": 3},
    "lab.recall_task.recall_batch": lambda: {"distance": 2, "batch": 3, "generator": _gen()},
    "lab.recall_task.RecallTraining": lambda: {"kind": "rnn", "distance": 2},
    "lab.name_model.CharModel": lambda: {"kind": "rnn", "hidden_size": 4},
    "lab.batch_norm.BatchNorm": lambda: {"num_features": 3},
    "lab.batch_norm.batch_norm_forward": _bn_tensors,
    "lab.batch_norm.batch_norm_inference": lambda: {**_bn_tensors(), "running_mean": torch.zeros(3, 1),
                                                    "running_var": torch.ones(3, 1)},
    "lab.batch_norm.update_running_averages": lambda: {"running_mean": torch.zeros(3, 1),
                                                       "running_var": torch.ones(3, 1), "mu": torch.rand(3, 1),
                                                       "var": torch.rand(3, 1), "m": 4},
    "lab.batch_norm.what_gets_normalized": lambda: {"X": torch.rand(4, 64, generator=_gen())},
    "lab.batch_norm_network.BatchNormNetwork": lambda: {"layer_dims": [4, 3, 3], "batch_norm": True,
                                                        "generator": _gen()},
    "lab.batch_norm_network.TorchBatchNormNetwork": lambda: {"layer_dims": [4, 3, 3], "batch_norm": True,
                                                             "generator": _gen()},
    "lab.batch_norm_network.BatchNormTraining": lambda: {"network": _bn_network(), "data": _bn_data()},
    "lab.batch_norm_network.compare_statistics": lambda: {"network": _bn_network(), "X": _bn_data().X_dev,
                                                          "Y": _bn_data().Y_dev},
    "lab.batch_norm_network.epoch_steps": lambda: {"m": 10},
    "lab.batch_norm_network.make_network": lambda: {"n_x": 4, "n_y": 3, "batch_norm": True},
    "lab.batch_norm_network.network_dims": lambda: {"n_x": 4, "n_y": 3},
    "lab.batch_norm_network.unit_history": lambda: {"snapshots": _bn_snapshots()},
    "lab.softmax.softmax_with_temperature": lambda: {"z": torch.tensor([1.0, 2.0])},
    "lab.softmax.compare_softmax": lambda: {"logits": [1.0, 2.0]},
    "lab.softmax.layer_dims": lambda: {"n_x": 2, "n_y": 3},
    "lab.softmax.initial_parameters": lambda: {"n_x": 2, "n_y": 3, "generator": _gen(), "dtype": torch.float32,
                                               "device": "cpu"},
    "lab.softmax.SoftmaxNetwork": lambda: {"n_x": 2, "n_y": 3, "generator": _gen()},
    "lab.softmax.TorchSoftmaxNetwork": lambda: {"n_x": 2, "n_y": 3, "generator": _gen()},
    "lab.softmax.make_network": lambda: {"implementation": "by_hand", "n_x": 2, "n_h": 0, "n_y": 3},
    "lab.softmax.SoftmaxTraining": _softmax_training,
    # lab 16, neural style transfer
    "lab.style_transfer.total_cost": lambda: {"j_content": torch.tensor(1.0), "j_style": torch.tensor(2.0)},
    # lab 11, ML strategy
    "lab.data.shifted_digits.blur_images": lambda: {"images": torch.rand(2, 8, 8, generator=_gen())},
    "lab.data.shifted_digits.distort": lambda: {"X": torch.rand(64, 3, generator=_gen()), "generator": _gen()},
    "lab.data_mismatch.error_table": lambda: {"network": __import__("lab.softmax").softmax.make_network(
        "torch_autograd", 64, 0, 10), "data": __import__("lab.data.shifted_digits").data.shifted_digits
        .load_mismatched_digits()},
    "lab.data_mismatch.with_human_level": lambda: {"table": __import__("lab.data_mismatch").data_mismatch
                                                   .ErrorTable(0.0, 0.1, 0.2, 0.3, 0.3)},
    "lab.metrics.best_within_limit": lambda: {"candidates": [
        __import__("lab.metrics").metrics.Candidate("a", 0.9, 1.0)]},
    "lab.metrics.binary_scores": lambda: {"scores": torch.tensor([0.2, 0.8]), "y": torch.tensor([0.0, 1.0])},
    "lab.multitask.MultiTaskTraining": lambda: {"shared": True},
    "lab.transfer.fine_tuning": lambda: {"mode": "last_layer", "n_h": 4},
    "lab.transfer.start_network": lambda: {"mode": "last_layer", "n_h": 4},
    "lab.transfer.FineTuning": lambda: {"network": __import__("lab.softmax").softmax.make_network(
        "torch_autograd", 64, 4, 5), "X": torch.rand(64, 3), "Y": torch.tensor([[0, 1, 2]]),
        "X_eval": torch.rand(64, 2), "Y_eval": torch.tensor([[3, 4]])},
    "lab.shallow_network.ShallowNetwork": lambda: {"n_x": 2, "n_h": 3, "generator": _gen()},
    "lab.shallow_network.TorchShallowNetwork": lambda: {"n_x": 2, "n_h": 3, "generator": _gen()},
    "lab.shallow_network.ShallowNetworkTask": lambda: {"network": _shallow(), "X": torch.rand(2, 4, generator=_gen()),
                                                       "Y": torch.tensor([[0.0, 1, 0, 1]])},
    "lab.backprop.numerical_gradient": _check_problem,
    "lab.backprop.gradient_check": _check_problem,
    "lab.convolution.output_size": lambda: {"n": 6, "f": 3},
    "lab.convolution.conv2d_loops": lambda: {"x": torch.rand(5, 5), "kernel": torch.rand(3, 3)},
    "lab.convolution.conv2d_unfold": lambda: {"x": torch.rand(5, 5), "kernel": torch.rand(3, 3)},
    "lab.convolution.conv2d": lambda: {"x": torch.rand(5, 5), "kernel": torch.rand(3, 3)},
    "lab.convolution.pad_image": lambda: {"x": torch.rand(5, 5)},
    "lab.convolution.windows": lambda: {"x": torch.rand(1, 1, 5, 5), "f": 2},
    "lab.convolution.max_pool2d": lambda: {"x": torch.rand(6, 6), "pool_size": 2},
    "lab.convolution.avg_pool2d": lambda: {"x": torch.rand(6, 6), "pool_size": 2},
    "lab.convolution.pool2d": lambda: {"x": torch.rand(6, 6), "pool_size": 2},
    "lab.data.corpus.make_corpus": lambda: {"num_sentences": 10},
    "lab.data.planar.make_planar": lambda: {"m": 10},
    "lab.data.planar.make_badly_scaled": lambda: {"m": 10},
    "lab.data.scenes.make_scenes": lambda: {"num_scenes": 1},
    "lab.data.split.split_columns": lambda: {"X": torch.rand(2, 4), "Y": torch.zeros(1, 4), "test_fraction": 0.5,
                                             "class_names": ("0", "1")},
    "lab.data.split.train_dev_test_split": lambda: {"X": torch.rand(2, 6), "Y": torch.zeros(1, 6),
                                                    "sizes": (2, 2, 2), "class_names": ("0", "1")},
    "lab.deep_network.dropout_mask": lambda: {"shape": (2, 3), "generator": _gen(), "like": torch.zeros(2, 3)},
    "lab.deep_network.forward_propagation": lambda: {"params": _net_params(), "generator": _gen(),
                                                     "X": torch.rand(2, 4, generator=_gen(), dtype=torch.float64)},
    "lab.deep_network.compute_cost": lambda: {"ZL": torch.zeros(1, 4), "Y": torch.ones(1, 4),
                                              "params": {"W1": torch.ones(1, 2), "b1": torch.zeros(1, 1)}},
    "lab.deep_network.backward_propagation": _forward_state,
    "lab.deep_network.update_parameters": lambda: {"params": {"W1": torch.ones(1, 2)},
                                                   "grads": {"dW1": torch.ones(1, 2)}},
    "lab.deep_network.DeepNetwork": lambda: {"layer_dims": [2, 3, 1], "generator": _gen()},
    "lab.deep_network.TorchDeepNetwork": lambda: {"layer_dims": [2, 3, 1], "generator": _gen()},
    "lab.deep_network.DeepNetworkTask": lambda: {"network": _task().network, "X_train": torch.rand(2, 4),
                                                 "Y_train": torch.tensor([[0.0, 1, 0, 1]])},
    "lab.deep_network.gradient_check_report": lambda: {"layer_dims": [2, 3, 1], "m": 4},
    "lab.detection.nms": _boxes,
    "lab.detection.batched_nms": lambda: {**_boxes(), "classes": torch.tensor([0, 0, 1])},
    "lab.detection.yolo_output_shape": lambda: {"num_classes": 3},
    "lab.detection.describe_yolo_output": lambda: {"image_size": 64, "num_classes": 3},
    "lab.detection.decode_yolo": lambda: {"prediction": _prediction()},
    "lab.detection.score_filter": lambda: {"detections": _detections()},
    "lab.detection.non_max_suppression": lambda: {"detections": _detections()},
    "lab.detection.detect": lambda: {"prediction": _prediction()},
    "lab.detection.match_detections": lambda: {**_boxes(), "truth": torch.tensor([[0.0, 0, 10, 10]])},
    "lab.initialization.init_std": lambda: {"scheme": "he", "fan_in": 3, "fan_out": 2},
    "lab.initialization.initialize_parameters": lambda: {"layer_dims": [2, 3, 1], "scheme": "random",
                                                         "generator": _gen()},
    "lab.initialization.measured_z_std": lambda: {"fan_in": 3, "fan_out": 2, "weight_std": 0.5, "m": 10},
    "lab.logistic.propagate": lambda: {"w": torch.zeros(2, 1), "b": torch.zeros(()), "X": torch.rand(2, 4),
                                       "Y": torch.ones(1, 4)},
    "lab.logistic.cost_along_line": lambda: {"X": torch.rand(2, 4), "Y": torch.ones(1, 4),
                                             "direction": torch.ones(2), "ts": torch.linspace(-1, 1, 5)},
    "lab.logistic.LogisticRegression": lambda: {"data": _split()},
    "lab.loss_surface.Surface": _surface_fields,
    "lab.loss_surface.SurfaceWalk": lambda: {"surface": _surface_module().get_surface("bowl")},
    "lab.lr_decay.inverse_time": lambda: {"lr0": 0.1, "t": 3},
    "lab.lr_decay.exponential": lambda: {"lr0": 0.1, "t": 3},
    "lab.lr_decay.staircase": lambda: {"lr0": 0.1, "t": 7},
    "lab.lr_decay.notes_inverse_time": lambda: {"lr0": 0.1, "t": 3},
    "lab.lr_decay.schedule": lambda: {"name": "inverse_time", "lr0": 0.1},
    "lab.lr_decay.notes_schedule": lambda: {"lr0": 0.1},
    "lab.lr_decay.set_learning_rate": lambda: {"optimizer": torch.optim.SGD(_leaf(), lr=0.1)},
    "lab.minibatch.check_batch_size": lambda: {"m": 10},
    "lab.minibatch.num_mini_batches": lambda: {"m": 10},
    "lab.minibatch.random_mini_batches": lambda: {"X": torch.rand(2, 10), "Y": torch.zeros(1, 10),
                                                  "generator": _gen()},
    "lab.optimization.MLP": lambda: {"n_x": 2, "n_y": 3, "generator": _gen()},
    "lab.optimization.MiniBatchTraining": lambda: {"data": _class_split(), "batch_size": 4, "hidden_units": 3},
    "lab.optimizers.GradientDescent": lambda: {"params": _leaf()},
    "lab.optimizers.Momentum": lambda: {"params": _leaf()},
    "lab.optimizers.RMSprop": lambda: {"params": _leaf()},
    "lab.optimizers.NotesRMSprop": lambda: {"params": _leaf()},
    "lab.optimizers.Adam": lambda: {"params": _leaf()},
    "lab.optimizers.TorchAdamUpdate": lambda: {"params": _leaf()},
    "lab.optimizers.make_optimizer": lambda: {"name": "adam", "params": _leaf()},
    "lab.regularization.l2_penalty": lambda: {"params": {"W1": torch.ones(2, 2), "b1": torch.ones(2, 1)}, "m": 4},
    "lab.regularization.l2_gradient": lambda: {"W": torch.ones(2, 2), "m": 4},
    "lab.regularization.weight_decay_step": lambda: {"W": torch.ones(2, 2), "dW": torch.ones(2, 2), "m": 4},
    "lab.regularization.inverted_dropout": lambda: {"A": torch.rand(3, 4), "generator": _gen()},
    "lab.regularization.augment": lambda: {"X": torch.rand(4, 3), "Y": torch.ones(1, 3), "image_shape": (2, 2)},
    "lab.regularization.train_with_early_stopping": lambda: {"task": _task(), "num_steps": 3},
    "lab.regularization.flip_check": lambda: {"split": _three_way(), "direction": "left_right", "num_steps": 2},
    "lab.regularization.dropout_means": lambda: {"units": 4, "m": 5},
    "lab.skipgram.context_target_pairs": lambda: {"ids": torch.tensor([0, 1, 2, 3]),
                                                  "sentence": torch.tensor([0, 0, 0, 1])},
    "lab.skipgram.SkipGram": lambda: {"corpus": _corpus(), "batch_size": 8},
    "lab.vector_learning_rate.RMSpropLogisticRegression": lambda: {"data": _split()},
    "lab.vector_learning_rate.learning_rate_contenders": lambda: {"data": _split()},
    "lab.yolo.TinyYolo": lambda: {"width": 2},
    "lab.yolo.evaluate_detector": lambda: {"predictions": torch.rand(2, 4, 4, 2, 8, generator=_gen()),
                                           "scenes": _scenes()},
    "lab.yolo.detections_for": lambda: {"predictions": torch.rand(2, 4, 4, 2, 8, generator=_gen()),
                                        "scenes": _scenes(), "n": 0},
    "lab.yolo.sliding_window_boxes": lambda: {"image_size": 32, "window_sizes": (16,)},
    "lab.yolo.window_crops": lambda: {"images": torch.rand(1, 3, 32, 32), "window_sizes": (16,)},
    "lab.yolo.compare_sliding_windows": lambda: {"model": _tiny_yolo(), "image": torch.rand(1, 3, 32, 32),
                                                 "window_sizes": (16,), "repeats": 1},
    "lab.cnn_architectures.Conv": lambda: {"name": "conv", "filters": 2, "f": 3},
    "lab.cnn_architectures.Pool": lambda: {"name": "pool", "f": 2, "stride": 2},
    "lab.cnn_architectures.FC": lambda: {"name": "fc", "units": 3},
    "lab.cnn_architectures.Bottleneck": lambda: {"name": "res", "width": 2},
    "lab.lenet.LeNetTraining": lambda: {"data": _digit_images(), "batch_size": 4},
    "lab.lenet.initialize": lambda: {"model": _lenet_module(), "generator": _gen()},
    "lab.residual.DeepMLP": lambda: {"num_layers": 4, "hidden_units": 3, "residual": True, "generator": _gen()},
    "lab.residual.DeepMLPTraining": lambda: {"model": _deep_mlp(), "data": _digit_split(), "batch_size": 4},
    "lab.residual.make_pair": lambda: {"num_layers": 4, "hidden_units": 3},
    "lab.residual.layer_norms": lambda: {"grad_norms": {"W1": [1.0, 2.0]}, "num_layers": 4},
    "lab.face_verification.triplet_loss": lambda: _triplet(),
    "lab.face_verification.triplet_loss_grads": lambda: _triplet(),
    "lab.face_verification.verify_pairs": lambda: {"distances": torch.tensor([0.1, 0.5, 1.0, 2.0]),
                                                   "same": torch.tensor([True, True, False, False])},
    "lab.face_verification.triplet_distances": lambda: _face_judgement(),
    "lab.face_verification.collapse_text": lambda: {"spread": 0.01},
}


def _triplet() -> dict:
    a, p, n = torch.rand(3, 4, 2, generator=_gen())
    return {"anchor": a, "positive": p, "negative": n}


def _face_judgement() -> dict:
    from lab.face_verification import digit_test_sets, judge

    test = digit_test_sets()["unseen"]
    return {"judgement": judge(torch.nn.functional.normalize(test.X, dim=-1), test), "test": test, "index": 0}


def _digit_images():
    from lab.lenet import DigitImages

    X, Y = torch.rand(8, 1, 32, 32, generator=_gen()), torch.arange(8) % 3
    return DigitImages(X, Y, X, Y, X, Y)


def _lenet_module():
    from lab.cnn_architectures import build_module, lenet5

    return build_module(lenet5(), device="cpu")


def _deep_mlp():
    from lab.residual import DeepMLP

    return DeepMLP(4, 3, True, generator=_gen())


def _digit_split():
    from lab.data.split import ThreeWaySplit

    X, Y = torch.rand(64, 16, generator=_gen()), (torch.arange(16) % 10).reshape(1, 16)
    return ThreeWaySplit(X, Y, X, Y, X, Y, class_names=tuple("0123456789"))


def _surface_module():
    import lab.loss_surface

    return lab.loss_surface


_CORPUS = []


def _corpus():
    from lab.data.corpus import make_corpus

    if not _CORPUS:
        _CORPUS.append(make_corpus(10))
    return _CORPUS[0]


def arguments(qualified: str, obj: Callable, argument: str, value) -> dict:
    """Valid values for every argument without a default, the declaration's default for declared ones."""
    kwargs = BUILDERS.get(qualified, dict)()
    for name, parameter in inspect.signature(obj).parameters.items():
        if name in kwargs or parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in PARAMS and name != argument:
            kwargs[name] = PARAMS[name].default
        elif name != argument:
            raise AssertionError(f"{qualified}: no value for its argument {name!r}: add it to BUILDERS")
    kwargs[argument] = value
    return kwargs


# ---- what a call may do --------------------------------------------------------------------------------------

def exercise(result):
    """Run what the call handed back: consume an iterator, call a schedule, step a trainable or an optimizer."""
    if isinstance(result, Iterator):
        return list(itertools.islice(result, 50))
    if isinstance(result, torch.optim.Optimizer):
        result.step()
        return [p for group in result.param_groups for p in group["params"]]
    if isinstance(result, torch.nn.Module) and hasattr(result, "num_anchors") and not hasattr(result, "step"):
        return result(torch.rand(1, 3, 32, 32))
    if hasattr(result, "step") and callable(result.step) and hasattr(result, "evaluate"):
        return result.step()
    if callable(result) and not isinstance(result, type) and not isinstance(result, torch.nn.Module):
        return [result(t) for t in range(4)]
    return result


def non_finite(value, path: str = "result") -> str | None:
    """Where the first NaN or ±inf in `value` is, or None."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not torch.isfinite(value).all():
            return f"{path} holds {value.flatten()[~torch.isfinite(value.flatten())][:3].tolist()}"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} = {value}"
    if isinstance(value, str):
        return f"{path} = {value!r}" if re.search(r"\b(nan|inf)\b", value, re.IGNORECASE) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    else:
        return None
    for key, item in items:
        if (where := non_finite(item, f"{path}[{key!r}]")) is not None:
            return where
    return None


def allowed(qualified: str, argument: str, declared: str, obj: Callable, value) -> bool:
    """Whether the declaration (or the signature, for None) allows `value`."""
    if (qualified, argument) in OWN_RULE:
        return OWN_RULE[qualified, argument](value)
    if value is None:
        annotation = inspect.signature(obj).parameters[argument].annotation
        return isinstance(annotation, str) and "None" in annotation.replace(" ", "").split("|")
    try:
        PARAMS[declared].validate(value)
    except ValueError:
        return False
    return True


def names_the_parameter(message: str, argument: str, declared: str) -> bool:
    """The lab's messages quote the name: the argument's ('name'), its declaration's ('photo'), or a topic's
    variant of it ('window_stride' for a window's stride)."""
    return any(re.search(rf"'(\w+_)?{re.escape(n)}'", message) for n in (argument, declared))


def check(qualified: str, obj: Callable, argument: str, declared: str, value) -> str | None:
    """None if the call behaves; otherwise what went wrong, in one line."""
    kwargs = arguments(qualified, obj, argument, value)
    try:
        result = exercise(obj(**kwargs))
    except (ValueError, TypeError) as error:
        if names_the_parameter(str(error), argument, declared):
            return None
        return f"{argument}={value!r}: {type(error).__name__} not naming '{argument}': {error}"
    except Exception as error:  # noqa: BLE001 — any other exception is the finding
        return f"{argument}={value!r}: {type(error).__name__}: {error}"
    if not allowed(qualified, argument, declared, obj, value):
        return f"{argument}={value!r}: accepted silently"
    if qualified not in NON_FINITE_BY_DESIGN and (where := non_finite(result)) is not None:
        return f"{argument}={value!r}: {where}"
    return None


# ---- the tests ------------------------------------------------------------------------------------------------

TARGETS = discover()
IDS = [f"{q}:{a}" for q, _, a, _ in TARGETS]
BAD_VALUES = [math.nan, math.inf, -math.inf, -1, -0.5, 0, 0.0, 5e-324, 1e-300, 1e30, -1e30, 2**70, "abc", "", None, [1],
              True]


def test_discovery_finds_the_functions_that_take_declared_parameters():
    names = {q for q, _, _, _ in TARGETS}
    assert {"lab.optimizers.Adam", "lab.convolution.conv2d", "lab.detection.nms", "lab.data.photos.load_photo",
            "lab.lr_decay.inverse_time", "lab.yolo.TinyYolo", "lab.skipgram.SkipGram"} <= names
    assert "lab.activations.sigmoid" not in names  # its z is a tensor, not the slider's number
    assert len(TARGETS) >= 100 and len(names) >= 70


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("qualified", "obj", "argument", "declared"), TARGETS, ids=IDS)
def test_every_discovered_function_can_be_called(qualified, obj, argument, declared):
    """With its declaration's default the call works (so the fuzz below tests values, not a broken setup)."""
    assert check(qualified, obj, argument, declared, PARAMS[declared].default) is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("qualified", "obj", "argument", "declared"), TARGETS, ids=IDS)
def test_bad_values_are_refused_by_name(qualified, obj, argument, declared):
    problems = [p for value in BAD_VALUES if (p := check(qualified, obj, argument, declared, value)) is not None]
    assert not problems, f"{qualified}:\n" + "\n".join(problems)


NUMERIC = [t for t in TARGETS if not PARAMS[t[3]].options]
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=3),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("qualified", "obj", "argument", "declared"), TARGETS, ids=IDS)
@settings(max_examples=6, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
def test_drawn_values_are_refused_by_name_or_handled(qualified, obj, argument, declared, value):
    assert (problem := check(qualified, obj, argument, declared, value)) is None, f"{qualified}: {problem}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("qualified", "obj", "argument", "declared"), NUMERIC,
                         ids=[f"{q}:{a}" for q, _, a, _ in NUMERIC])
@settings(max_examples=4, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_values_inside_the_declared_range_work(qualified, obj, argument, declared, data):
    """A value the slider could offer is accepted (or refused by name for a reason of its own, e.g. a pooling
    window larger than the image), and gives a finite result."""
    p = PARAMS[declared]
    low, high = p.slider_range
    if p.integer:
        value = data.draw(st.integers(int(math.ceil(low)), int(high)))
    else:
        value = data.draw(st.floats(low, high, exclude_min=not p.low_inclusive and low == p.low,
                                    exclude_max=not p.high_inclusive and high == p.high))
    assert (problem := check(qualified, obj, argument, declared, value)) is None, f"{qualified}: {problem}"
