"""What one hyperparameter-search trial trains: the optimization lab's MLP on the real digits, with momentum.

A trial is a plain, picklable callable `config -> dict of metrics`, so any `concurrent.futures.Executor` can run
it in another process — a local process pool or a Dask worker on another machine. It reads the digits there,
trains for a fixed number of epochs with α = config["lr"] and momentum β = config["beta"], and reports the error
on the dev set (the trials choose settings on dev; the test set stays untouched).

With the course's momentum, v := β·v + (1 − β)·dW, β changes how much the steps are smoothed but not their size:
α decides almost everything and β very little, which is the setting where random search beats a grid.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from functools import lru_cache

import torch

from lab.data.digits import load_digits_multiclass
from lab.data.split import ThreeWaySplit
from lab.optimization import MiniBatchTraining


@lru_cache(maxsize=1)
def trial_data() -> ThreeWaySplit:
    """The 1,797 digits cut 60/20/20 into train/dev/test, read once per worker process."""
    return load_digits_multiclass(seed=0)


def error_rate(model: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Share of the columns of X (64, m) whose likeliest class is not the label in Y (1, m)."""
    with torch.no_grad():
        return (model(X).argmax(0) != Y[0]).double().mean().item()


@dataclass(frozen=True)
class DigitsTrial:
    """Train a 2-layer MLP on the digits with momentum; `config` gives lr, beta and seed.

    Returns {"dev_error", "train_error", "diverged" (1.0 or 0.0), "seconds", "worker" (the process id)}. The
    torch thread count is set to `threads` in the worker: two workers on two cores must not run four threads.
    """

    epochs: int = 200  # passes over the 1,078 training digits (17 mini-batches each): about 1 s on one core
    minibatch: int = 64  # examples per step (fixed for the whole search: not one of its knobs)
    hidden: int = 32  # hidden units (fixed too)
    threads: int = 1  # torch threads in the process that runs the trial

    def __call__(self, config: dict) -> dict[str, float]:
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        start = time.perf_counter()
        data = trial_data()
        task = MiniBatchTraining(data, batch_size=self.minibatch, optimizer="momentum", lr=config["lr"],
                                 beta=config.get("beta", 0.9), hidden_units=self.hidden, seed=config.get("seed", 0))
        diverged = False
        for _ in range(self.epochs * task.steps_per_epoch):
            cost, _grads = task.step()
            if not math.isfinite(cost.item()):  # the weights are NaN from here on: stop, it has failed
                diverged = True
                break
        dev = 1.0 if diverged else error_rate(task.model, data.X_dev, data.Y_dev)
        train = 1.0 if diverged else error_rate(task.model, data.X_train, data.Y_train)
        return {"dev_error": dev, "train_error": train, "diverged": float(diverged),
                "seconds": time.perf_counter() - start, "worker": float(os.getpid())}


@dataclass(frozen=True)
class FaultyTrial:
    """A trial that fails on purpose for one seed (or above a learning rate): it raises (`how="raise"`) or its
    process dies at once (`how="exit"`, os._exit, as a crash or an out-of-memory kill would). For tests and demos
    of failures: every other config runs `inner` as usual."""

    inner: DigitsTrial = DigitsTrial()
    fail_seed: int = 3  # the config whose "seed" is this one fails
    how: str = "raise"  # "raise" or "exit"
    fail_lr_above: float = math.inf  # configs with a larger "lr" fail too

    def __call__(self, config: dict) -> dict[str, float]:
        if config.get("seed") == self.fail_seed or config.get("lr", 0.0) > self.fail_lr_above:
            if self.how == "exit":
                os._exit(17)
            raise RuntimeError(f"trial with seed {config.get('seed')}, α={config.get('lr')} failed on purpose")
        return self.inner(config)
