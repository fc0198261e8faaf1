"""A memory test for recurrent cells: recall the symbol seen at the start after T distracting steps.

Every sequence starts with one of `SYMBOLS` symbols, then T distractor tokens drawn at random, then a query
token; at the query the network must name the first symbol. Nothing in between helps, so the answer has to be
carried in the hidden state across all T steps, and the error signal has to flow back across them too: a plain
RNN fails once T is a few dozen, while the GRU's and LSTM's gates keep both paths open. Chance is 1/SYMBOLS.

Fresh sequences are drawn for every mini-batch (the task has no fixed training set to overfit); accuracy is
measured on one held-out batch drawn once from another seed.
"""

from __future__ import annotations

import torch
from torch import nn

from lab.optimizers import Adam
from lab.params import Param, register, validate
from lab.seeding import make_generator
from lab.sequence import hidden_of, make_cell, update

SYMBOLS = 4  # what is to be remembered; chance accuracy is 1 / SYMBOLS
DISTRACTORS = 4  # tokens that fill the gap
INPUT_SIZE = SYMBOLS + DISTRACTORS + 1  # one-hot: symbols, distractors, the query token
QUERY = INPUT_SIZE - 1
HELD_OUT = 512  # sequences the accuracy is measured on

register(
    Param("recall_distance", "Distance T", "Distractor steps between the symbol and the question.", 20, low=1,
          high=500, step=1, integer=True, ui_high=100),
    Param("recall_steps", "Training steps", "Mini-batches of fresh sequences each cell trains on.", 300, low=1,
          high=20000, step=50, integer=True, ui_low=50, ui_high=2000),
)


def recall_batch(distance: int, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch` sequences of length distance + 2 as one-hot inputs (T + 2, batch, INPUT_SIZE), and the symbol each
    must recall (batch,) int64."""
    distance = validate("recall_distance", distance)
    symbols = torch.randint(SYMBOLS, (batch,), generator=generator)
    tokens = torch.cat([symbols[None], SYMBOLS + torch.randint(DISTRACTORS, (distance, batch), generator=generator),
                        torch.full((1, batch), QUERY)])  # (T + 2, batch)
    return nn.functional.one_hot(tokens, INPUT_SIZE).float().to(device), symbols.to(device)


class SequenceClassifier(nn.Module):
    """A recurrent cell read out by a linear layer at the last step: ŷ = softmax(W_y a⟨T⟩ + b_y)."""

    def __init__(self, cell: nn.Module, classes: int):
        super().__init__()
        self.cell = cell
        self.readout = nn.Linear(cell.hidden_size, classes, device=cell.weight_ih.device)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        state = None
        for x in xs:
            state = self.cell(x, state)
        return self.readout(hidden_of(state))  # logits (batch, classes)


class RecallTraining:
    """One cell learning the recall task with Adam (a `lab.training.Trainable`): one mini-batch per step."""

    def __init__(self, kind: str, distance: int, *, hidden_size: int = 32, lr: float = 0.01, batch_size: int = 64,
                 clip_norm: float = 0.0, gate_bias: float = 0.0, seed: int = 0,
                 device: torch.device | str = "cpu"):
        self.distance = validate("recall_distance", distance)
        self.batch_size = validate("batch_size", batch_size)
        self.clip_norm = validate("clip_norm", clip_norm)
        self.device = torch.device(device)
        torch.manual_seed(validate("seed", seed))  # the readout layer's initial weights
        cell = make_cell(kind, INPUT_SIZE, validate("rnn_hidden_units", hidden_size), gate_bias=gate_bias,
                         seed=seed, device=device)
        self.model = SequenceClassifier(cell, SYMBOLS)
        self.optimizer = Adam(self.model.parameters(), lr=validate("lr", lr))
        self.generator = make_generator(seed)
        self.held_out = recall_batch(self.distance, HELD_OUT, make_generator(seed + 10_000), device)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        xs, symbols = recall_batch(self.distance, self.batch_size, self.generator, self.device)
        self.optimizer.zero_grad()
        return update(self.model, self.optimizer, nn.functional.cross_entropy(self.model(xs), symbols), self.clip_norm)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        xs, symbols = self.held_out
        said = self.model(xs).argmax(dim=1)
        return {"accuracy": float((said == symbols).float().mean())}
