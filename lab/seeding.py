"""Reproducible randomness without hidden globals: every random draw takes an explicit generator."""

from __future__ import annotations

import torch

from lab.params import validate


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh `torch.Generator` on `device`, seeded with `seed` (a whole number ≥ 0)."""
    seed = validate("seed", seed)
    return torch.Generator(device=device).manual_seed(seed)
