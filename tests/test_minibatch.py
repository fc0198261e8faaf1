import pytest
import torch

from lab.minibatch import check_batch_size, num_mini_batches, random_mini_batches
from lab.seeding import make_generator


def data(m=10, n=3):
    X = torch.arange(n * m, dtype=torch.float64).reshape(n, m)  # column j holds j, m + j, 2m + j
    Y = torch.arange(m, dtype=torch.float64).reshape(1, m)  # label j for column j
    return X, Y


@pytest.mark.parametrize(("batch_size", "sizes"), [(1, [1] * 10), (3, [3, 3, 3, 1]), (5, [5, 5]), (10, [10])])
def test_batches_cover_every_example_once_and_the_last_may_be_partial(batch_size, sizes):
    X, Y = data()
    batches = random_mini_batches(X, Y, batch_size, make_generator(0))
    assert [b[0].shape[1] for b in batches] == sizes == [b[1].shape[1] for b in batches]
    assert num_mini_batches(10, batch_size) == len(sizes)
    labels = torch.cat([Y_t for _, Y_t in batches], dim=1)[0]
    assert sorted(labels.tolist()) == list(range(10))
    for X_t, Y_t in batches:  # columns of X and Y are shuffled together
        assert torch.equal(X_t[0], Y_t[0]) and torch.equal(X_t[2], Y_t[0] + 20)


def test_batches_are_shuffled_and_the_seed_fixes_the_order():
    X, Y = data(m=50)
    first = torch.cat([y for _, y in random_mini_batches(X, Y, 7, make_generator(3))], dim=1)
    again = torch.cat([y for _, y in random_mini_batches(X, Y, 7, make_generator(3))], dim=1)
    other = torch.cat([y for _, y in random_mini_batches(X, Y, 7, make_generator(4))], dim=1)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.equal(first, Y)  # not the original order


def test_one_generator_gives_a_new_order_each_epoch():
    X, Y = data(m=50)
    gen = make_generator(0)
    epoch1 = random_mini_batches(X, Y, 50, gen)[0][1]
    epoch2 = random_mini_batches(X, Y, 50, gen)[0][1]
    assert not torch.equal(epoch1, epoch2)


@pytest.mark.parametrize(("batch_size", "message"), [
    (0, "The 'batch_size' parameter must be in the range [1, 100000]. Got 0 instead."),
    (11, "The 'batch_size' parameter must be at most the number of examples m = 10. Got 11 instead."),
    (2.5, "The 'batch_size' parameter must be a whole number. Got 2.5 instead."),
])
def test_bad_batch_sizes_are_refused(batch_size, message):
    X, Y = data()
    with pytest.raises(ValueError) as error:
        random_mini_batches(X, Y, batch_size, make_generator(0))
    assert str(error.value) == message
    with pytest.raises(ValueError):
        check_batch_size(batch_size, 10)


def test_x_and_y_must_have_the_same_number_of_examples():
    X, _ = data()
    with pytest.raises(ValueError, match="same number of columns m. Got 10 and 9 instead"):
        random_mini_batches(X, torch.zeros(1, 9), 2, make_generator(0))


def test_epoch_batches_cover_every_row_once_per_epoch_in_a_new_order():
    from lab.minibatch import EpochBatches

    batches = EpochBatches(10, 4, torch.Generator().manual_seed(0))
    epochs = [[batches.next_batch() for _ in range(3)] for _ in range(2)]
    for epoch in epochs:
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(torch.cat(epoch).tolist()) == list(range(10))
    assert torch.cat(epochs[0]).tolist() != torch.cat(epochs[1]).tolist()
