"""lab.face_verification and lab.data.identities: the triplet loss against autograd, PyTorch and hand-computed
values; triplet choice, ROC, verification and one-shot recognition on hand-made embeddings; a short live run."""

import pytest
import torch
import torch.nn.functional as F

from lab.data.identities import load_digit_identities
from lab.face_verification import (
    EmbeddingNet,
    TripletTraining,
    collapse_text,
    digit_test_sets,
    hard_negatives,
    judge,
    one_shot_accuracy,
    random_triplets,
    roc_curve,
    squared_distances,
    torch_comparison,
    triplet_distances,
    triplet_loss,
    triplet_loss_grads,
    verify_pairs,
)
from lab.seeding import make_generator
from lab.training import train


def random_triplet_batch(n=12, d=5, seed=0):
    g = make_generator(seed)
    return tuple(torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(3))


def test_triplet_loss_by_hand():
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    p = torch.tensor([[1.0, 0.0], [0.0, 0.1]])  # d(A, P) = 1 and 0.01
    n = torch.tensor([[0.0, 2.0], [0.0, 0.3]])  # d(A, N) = 4 and 0.09
    # max(1 − 4 + 0.2, 0) = 0 and max(0.01 − 0.09 + 0.2, 0) = 0.12
    assert triplet_loss(a, p, n, 0.2).item() == pytest.approx(0.12)
    assert triplet_loss(a, p, n, 0.2, reduction="mean").item() == pytest.approx(0.06)
    assert triplet_loss(a, p, n, 3.5).item() == pytest.approx(0.5 + 3.42)
    # plain distances: max(1 − 2 + 0.2, 0) + max(0.1 − 0.3 + 0.2, 0) = 0 + 0
    assert triplet_loss(a, p, n, 0.2, squared=False).item() == pytest.approx(0.0, abs=1e-7)


def test_hand_written_gradients_match_autograd():
    a, p, n = (t.requires_grad_() for t in random_triplet_batch())
    cost, grads = triplet_loss_grads(a, p, n, 1.0)
    active = (squared_distances(a, p) - squared_distances(a, n) + 1.0 > 0)
    assert 0 < active.sum() < len(active)  # the check covers active and inactive triplets
    cost_ag = triplet_loss(a, p, n, 1.0)
    cost_ag.backward()
    assert cost.item() == pytest.approx(cost_ag.item())
    for name, tensor in (("anchor", a), ("positive", p), ("negative", n)):
        torch.testing.assert_close(grads[name], tensor.grad)


def test_pytorch_triplet_margin_loss_is_the_plain_distance_mean_not_the_course_form():
    a, p, n = random_triplet_batch(n=8, d=4)
    ours = triplet_loss(a, p, n, 0.7, squared=False, reduction="mean")
    torch.testing.assert_close(ours, F.triplet_margin_loss(a, p, n, margin=0.7, eps=0.0))
    # with its default eps = 1e-6 (added to A − P before the norm) it is close, not equal
    assert F.triplet_margin_loss(a, p, n, margin=0.7).item() == pytest.approx(ours.item(), abs=1e-5)
    course = triplet_loss(a, p, n, 0.7)
    assert abs(course.item() - ours.item()) > 0.5  # squared and summed: a different number
    values = torch_comparison(triplet_margin=0.7)
    assert values["torch, eps=0"] == pytest.approx(values["plain distance, mean"])
    assert values["course (squared, sum)"] == pytest.approx(8 * values["squared, mean"])


def test_without_a_margin_collapse_costs_nothing():
    x = torch.ones(5, 3)  # every image at one point
    assert triplet_loss(x, x, x, 0.0).item() == 0.0
    assert triplet_loss(x, x, x, 0.3).item() == pytest.approx(5 * 0.3)  # the margin makes collapse cost α each


@pytest.mark.parametrize("margin", [-0.1, 4.5, float("nan"), "0.2"])
def test_bad_margin_names_the_parameter(margin):
    a, p, n = random_triplet_batch()
    with pytest.raises(ValueError, match="triplet_margin"):
        triplet_loss(a, p, n, margin)


def test_bad_shapes_and_reduction_are_refused():
    a, p, n = random_triplet_batch()
    with pytest.raises(ValueError, match="share one shape"):
        triplet_loss(a, p[:3], n)
    with pytest.raises(ValueError, match="'reduction'"):
        triplet_loss(a, p, n, reduction="max")


def test_random_triplets_respect_identities():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    t = random_triplets(labels, 500, make_generator(1))
    assert t.shape == (500, 3)
    assert (labels[t[:, 0]] == labels[t[:, 1]]).all() and (t[:, 0] != t[:, 1]).all()
    assert (labels[t[:, 0]] != labels[t[:, 2]]).all()
    assert set(t[:, 2].tolist()) == set(range(8))  # any image of another identity can be the negative


def test_hard_negative_is_the_closest_one_beyond_the_positive():
    d_pos = torch.tensor([0.5, 0.5])
    d_cand = torch.tensor([[0.1, 0.6, 0.9, 0.55], [0.1, 0.2, 0.3, 0.05]])
    same = torch.tensor([[False, False, False, True], [False, False, False, False]])
    # row 0: 0.55 is the anchor's own identity, 0.1 is closer than the positive → 0.6; row 1: none beyond → closest
    assert hard_negatives(d_pos, d_cand, same).tolist() == [1, 3]


def test_roc_curve_agrees_with_scikit_learn():
    from sklearn.metrics import roc_auc_score

    g = make_generator(3)
    same = torch.rand(300, generator=g) < 0.5
    distances = torch.rand(300, generator=g) + 0.4 * (~same)  # different pairs a bit farther
    roc = roc_curve(distances, same)
    assert roc.auc == pytest.approx(roc_auc_score(same.numpy(), -distances.numpy()))
    assert roc.fpr[0] == 0 and roc.tpr[-1] == 1 and roc.fpr[-1] == 1
    assert roc_curve(torch.tensor([0.1, 0.2, 0.8, 0.9]), torch.tensor([True, True, False, False])).auc == 1.0
    assert roc_curve(torch.tensor([0.5, 0.5]), torch.tensor([True, False])).auc == 0.5  # a tie: the diagonal


def test_verify_pairs_says_when_every_pair_is_called_alike():
    d, same = torch.tensor([0.1, 0.5, 0.4, 2.0]), torch.tensor([True, True, False, False])
    v = verify_pairs(d, same, 0.45)
    assert (v.tpr, v.fpr, v.accuracy) == (0.5, 0.5, 0.5) and not v.all_same and not v.all_different
    assert verify_pairs(d, same, 4.0).all_same and verify_pairs(d, same, 0.05).all_different
    with pytest.raises(ValueError, match="verify_threshold"):
        verify_pairs(d, same, 5.0)


def test_one_shot_accuracy_on_hand_made_embeddings():
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    E = torch.tensor([[0.0], [0.1], [0.2], [1.0], [1.1], [0.15]])  # the last image of identity 1 sits with 0
    references = torch.tensor([[0, 3], [1, 4]])
    # draw 1: rows 1, 2, 4, 5 scored → 1, 2, 4 right, 5 wrong; draw 2: rows 0, 2, 3, 5 → 0, 2, 3 right
    assert one_shot_accuracy(E, labels, references) == pytest.approx(6 / 8)


def test_identity_split_keeps_unseen_digits_out_of_training():
    data = load_digit_identities()
    assert set(data.y_train.tolist()) == set(data.y_new_photos.tolist()) == {0, 1, 2, 3, 4}
    assert set(data.y_unseen.tolist()) == {5, 6, 7, 8, 9}
    assert len(data.y_train) + len(data.y_new_photos) + len(data.y_unseen) == 1797
    assert len(data.y_new_photos) == round(0.3 * (len(data.y_train) + len(data.y_new_photos)))
    # no held-back image is also a training image
    train_rows = {tuple(r) for r in data.X_train.tolist()}
    assert sum(tuple(r) in train_rows for r in data.X_new_photos.tolist()) < 5  # (the set has a few duplicates)
    for bad in [(1,), (0, 0, 1), (0, 10), tuple(range(9))]:
        with pytest.raises(ValueError, match="'seen'"):
            load_digit_identities(bad)
    with pytest.raises(ValueError, match="'held_back'"):
        load_digit_identities(held_back=1.0)


def test_embeddings_are_unit_vectors_of_the_chosen_size():
    f = EmbeddingNet(7)(torch.rand(10, 64))
    assert f.shape == (10, 7) and torch.allclose(f.norm(dim=1), torch.ones(10))
    with pytest.raises(ValueError, match="face_embedding_dim"):
        EmbeddingNet(1)


def test_training_learns_the_seen_identities_and_judges_the_unseen():
    task = TripletTraining(seed=0)
    before = task.snapshot.judgements
    events = list(train(task, 150, eval_every=50))
    after = task.snapshot.judgements
    tests = digit_test_sets()
    assert task.snapshot.step == 150 and events[-1].metrics["new_photos_one_shot"] == after["new_photos"].one_shot
    # new images of the trained identities: far better than raw pixels and than the untrained network
    assert after["new_photos"].one_shot > max(0.95, tests["new_photos"].pixel_one_shot + 0.1)
    assert after["new_photos"].roc.auc > before["new_photos"].roc.auc
    # identities it never saw: well above chance (20%), though five identities teach it little about new ones
    assert 0.3 < after["unseen"].one_shot < 1.0
    costs = [e.cost for e in events if hasattr(e, "cost")]
    assert sum(costs[-20:]) < sum(costs[:20])


def test_the_same_seed_gives_the_same_run():
    runs = []
    for _ in range(2):
        task = TripletTraining(seed=4, triplet_mode="hard")
        runs.append([e.cost for e in train(task, 20) if hasattr(e, "cost")])
    assert runs[0] == runs[1]


def test_margin_zero_lets_the_embedding_collapse():
    spreads = {}
    for margin in (0.0, 0.2):
        task = TripletTraining(triplet_margin=margin, seed=0)
        list(train(task, 100))
        spreads[margin] = task.snapshot.judgements["unseen"].spread
    assert spreads[0.0] < 0.05 < spreads[0.2]
    assert "collapsed" in collapse_text(spreads[0.0], 0.0) and "α = 0" in collapse_text(spreads[0.0], 0.0)
    assert collapse_text(spreads[0.2], 0.2) == ""


def test_triplet_distances_match_the_embeddings():
    test = digit_test_sets()["unseen"]
    E = F.normalize(test.X, dim=-1)
    t = triplet_distances(judge(E, test), test, 3, 0.5)
    a, p, n = test.triplets[3].tolist()
    assert t["d_ap"] == pytest.approx(float(((E[a] - E[p]) ** 2).sum()))
    assert t["loss"] == pytest.approx(max(t["d_ap"] - t["d_an"] + 0.5, 0.0))
    with pytest.raises(ValueError, match="'index'"):
        triplet_distances(judge(E, test), test, 40, 0.5)


def test_pytorch_refuses_a_zero_margin_and_the_comparison_says_so():
    a, p, n = random_triplet_batch(n=4, d=3)
    with pytest.raises(ValueError):
        F.triplet_margin_loss(a, p, n, margin=0.0)
    assert triplet_loss(a, p, n, 0.0).item() >= 0
    assert "torch, eps=0" not in torch_comparison(triplet_margin=0.0)


def test_pair_images_put_the_two_digits_side_by_side():
    from lab.face_verification import pair_images, rows_per_identity

    test = digit_test_sets()["unseen"]
    images = pair_images(test, [0, 1000])
    assert images.shape == (2, 8, 17) and (images[:, :, 8] == 1).all()
    torch.testing.assert_close(images[1, :, 9:], test.X[test.second[1000]].reshape(8, 8))
    rows = rows_per_identity(test, 3)
    assert test.y[rows].tolist() == [5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9]
