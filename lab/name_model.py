"""A character-level language model of names: a recurrent cell reads a name one letter at a time and, at
every step, predicts the next letter, ŷ⟨t⟩ = softmax(W_y a⟨t⟩ + b_y).

The alphabet is the 26 letters and one mark, ".", that stands for both the start and the end of a name: the
model reads ".", "e", "m", "m", "a" and must answer "e", "m", "m", "a", ".". The cost is the cross-entropy of
those answers, averaged over every letter of the mini-batch. Sampling runs the model on its own output: start
from ".", draw a letter from softmax(logits / temperature), feed it back, stop at the next ".".
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

from lab.data.names import LISTS, load_names
from lab.optimizers import Adam
from lab.params import Param, register, validate
from lab.seeding import make_generator
from lab.sequence import hidden_of, make_cell, update

MARK = "."  # start and end of a name
ALPHABET = MARK + "abcdefghijklmnopqrstuvwxyz"
INDEX = {c: i for i, c in enumerate(ALPHABET)}
MAX_SAMPLE_LENGTH = 20  # a sample that has not ended by then is cut there
VOWELS = set("aeiouy")

register(
    Param("sample_temperature", "Sampling temperature", "Divides the logits before each letter is drawn: below 1 "
          "the model sticks to its likeliest letters, above 1 it takes more chances.", 1.0, low=0.05, high=10.0,
          log=True, ui_low=0.2, ui_high=3.0),
    Param("name_list", "Names", "Which census list the model learns: 88,799 surnames, or 5,163 first names (so few "
          "that the model soon starts reciting them).", "surnames", options=tuple(LISTS)),
    Param("name_steps", "Mini-batch steps", "Mini-batches of names the model trains on.", 1500, low=1, high=100_000,
          step=100, integer=True, ui_low=100, ui_high=10_000),
)


def encode(names: list[str] | tuple[str, ...], device: torch.device | str = "cpu"
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (T, N) — ".", then the letters — and targets (T, N) — the letters, then "."; T is the longest
    name + 1, and positions past a name's end have target −1 (ignored by the cost)."""
    length = max(len(n) for n in names) + 1
    # all names as one byte string, one fixed-width row each ("." pads): 88,799 names in a few milliseconds
    rows = b"".join(n.encode("ascii").ljust(length, b".") for n in names)
    codes = torch.frombuffer(bytearray(rows), dtype=torch.uint8).reshape(len(names), length).long()
    ids = torch.where(codes == ord(MARK), 0, codes - ord("a") + 1)  # (N, T): letters 1…26, "." 0
    lengths = torch.tensor([len(n) for n in names])
    position = torch.arange(length)
    targets = torch.where(position[None] <= lengths[:, None], ids, -1)  # the letters, ".", then ignored
    inputs = torch.cat([torch.zeros(len(names), 1, dtype=torch.long), ids[:, :-1]], dim=1)
    return inputs.T.contiguous().to(device), targets.T.contiguous().to(device)


@functools.cache
def encoded_names(which: str) -> tuple[torch.Tensor, torch.Tensor]:
    """`encode` of a whole census list, on the CPU, computed once: a new training run then starts at once."""
    return encode(load_names(which))


def check_prefix(prefix: str) -> str:
    """The prefix in lower case, or a ValueError in words naming the characters the model has never seen."""
    prefix = prefix.strip().lower()
    unknown = sorted({c for c in prefix if c not in ALPHABET or c == MARK})
    if unknown:
        shown = ", ".join(repr(c) for c in unknown)
        raise ValueError(f"The prefix {prefix!r} has characters the model has never seen: {shown}. It learned "
                         "from census first names, so it knows only the 26 letters a–z (no spaces, digits, "
                         "hyphens or accents).")
    return prefix


class CharModel(nn.Module):
    """A recurrent cell over one-hot letters, and a linear readout to the 27 logits at every step."""

    def __init__(self, kind: str, hidden_size: int, *, seed: int = 0, device: torch.device | str = "cpu"):
        super().__init__()
        torch.manual_seed(validate("seed", seed))  # the readout layer's initial weights
        self.cell = make_cell(kind, len(ALPHABET), hidden_size, seed=seed, device=device)
        self.readout = nn.Linear(hidden_size, len(ALPHABET), device=device)

    def forward(self, inputs: torch.Tensor, state=None) -> tuple[torch.Tensor, object]:
        """Logits (T, N, 27) for letter ids (T, N), and the final state."""
        xs = nn.functional.one_hot(inputs, len(ALPHABET)).to(self.readout.weight.dtype)
        hiddens = []
        for x in xs:
            state = self.cell(x, state)
            hiddens.append(hidden_of(state))
        return self.readout(torch.stack(hiddens)), state

    @torch.no_grad()
    def next_letter_probabilities(self, prefix: str, temperature: float = 1.0) -> torch.Tensor:
        """P(next character | "." + prefix) over ALPHABET (27,), at `temperature`; index 0 is "the name ends"."""
        prefix = check_prefix(prefix)
        ids = torch.tensor([[0] + [INDEX[c] for c in prefix]], device=self.readout.weight.device).T  # (T, 1)
        logits, _ = self(ids)
        return torch.softmax(logits[-1, 0] / validate("sample_temperature", temperature), dim=0).cpu()

    @torch.no_grad()
    def sample(self, count: int, temperature: float = 1.0, *, seed: int = 0) -> list[str]:
        """`count` names drawn letter by letter at `temperature`, all at once as one batch."""
        temperature = validate("sample_temperature", temperature)
        device = self.readout.weight.device
        generator = make_generator(seed)
        current = torch.zeros(count, dtype=torch.long, device=device)
        letters, state = [], None
        for _ in range(MAX_SAMPLE_LENGTH):
            logits, state = self(current[None], state)
            probabilities = torch.softmax(logits[0].float().cpu() / temperature, dim=1)
            current = torch.multinomial(probabilities, 1, generator=generator)[:, 0].to(device)
            letters.append(current.cpu())
        names = []
        for row in torch.stack(letters, dim=1).tolist():
            end = row.index(0) if 0 in row else len(row)
            names.append("".join(ALPHABET[i] for i in row[:end]))
        return names


class NameTraining:
    """The model learning a census name list with Adam (a `lab.training.Trainable`): 90% of the names train,
    10% measure how well it predicts names it never saw (dev cost per letter)."""

    def __init__(self, kind: str = "gru", *, names: str = "surnames", hidden_size: int = 64, lr: float = 0.01,
                 batch_size: int = 64, clip_norm: float = 0.0, seed: int = 0, device: torch.device | str = "cpu"):
        self.batch_size = validate("batch_size", batch_size)
        self.clip_norm = validate("clip_norm", clip_norm)
        self.device = torch.device(device)
        which = validate("name_list", names)
        names = load_names(which)
        order = torch.randperm(len(names), generator=make_generator(seed))
        cut = len(names) * 9 // 10
        self.train_names = [names[i] for i in order[:cut].tolist()]
        self.dev_names = [names[i] for i in order[cut:].tolist()]
        inputs, targets = encoded_names(which)
        self.inputs, self.targets = inputs[:, order[:cut]].to(device), targets[:, order[:cut]].to(device)
        self.dev = inputs[:, order[cut:]].to(device), targets[:, order[cut:]].to(device)
        self.model = CharModel(kind, validate("rnn_hidden_units", hidden_size), seed=seed, device=device)
        self.optimizer = Adam(self.model.parameters(), lr=validate("lr", lr))
        self.generator = make_generator(seed)

    def cost(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy per letter (the end mark included) over the names in the columns."""
        longest = int((targets >= 0).sum(dim=0).max())  # no steps past the longest name of this batch
        logits, _ = self.model(inputs[:longest])
        return nn.functional.cross_entropy(logits.reshape(-1, len(ALPHABET)), targets[:longest].reshape(-1),
                                           ignore_index=-1)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        columns = torch.randint(len(self.train_names), (self.batch_size,), generator=self.generator)
        columns = columns.to(self.device)
        self.optimizer.zero_grad()
        cost = self.cost(self.inputs[:, columns], self.targets[:, columns])
        return update(self.model, self.optimizer, cost, self.clip_norm)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        return {"dev_cost": float(self.cost(*self.dev))}

    def sample_report(self, samples: list[str]) -> dict[str, float]:
        """How samples look: the share that copies a training name, the share that hits a dev name (one the
        model never saw), and the share that is pronounceable (see `pronounceable`). A model that composes
        names rather than reciting them hits both lists at the same rate per name, so copies ≈ 9 × dev hits."""
        count = max(len(samples), 1)
        train, dev = set(self.train_names), set(self.dev_names)
        return {"copies": sum(s in train for s in samples) / count,
                "dev_hits": sum(s in dev for s in samples) / count,
                "pronounceable": sum(map(pronounceable, samples)) / count}


def pronounceable(name: str) -> bool:
    """A rough test of whether a string reads as a name: 2–15 letters, a vowel (y counts), never more than three
    consonants in a row nor one letter three times in a row."""
    if not 2 <= len(name) <= 15 or not VOWELS & set(name):
        return False
    run = 0
    for i, c in enumerate(name):
        run = 0 if c in VOWELS else run + 1
        if run > 3 or (i >= 2 and c == name[i - 1] == name[i - 2]):
            return False
    return True


def chance_cost() -> float:
    """The cost of a model that knows nothing: log 27 ≈ 3.30 per letter."""
    return math.log(len(ALPHABET))
