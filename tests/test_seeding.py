"""lab.seeding: one seed, one independent generator."""

import pytest
import torch

from lab.seeding import make_generator


def test_generators_are_independent_and_reproducible():
    a = torch.rand(3, generator=make_generator(7))
    b = torch.rand(3, generator=make_generator(7))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="The 'seed' parameter"):
        make_generator(-3)
