import torch

from lab.logistic import propagate
from lab.training import StepEvent, train
from lab.vector_learning_rate import RMSpropLogisticRegression, badly_scaled_split, learning_rate_contenders


def final_costs(feature_scale, lr, steps=300):
    learners = learning_rate_contenders(badly_scaled_split(feature_scale), lr)
    return {label: [e.cost for e in train(m, steps) if isinstance(e, StepEvent)][-1] for label, m in learners.items()}


def test_per_feature_rates_beat_one_shared_rate_on_badly_scaled_features():
    costs = final_costs(100.0, 4e-4)
    one, hand, rms = costs.values()
    assert hand < 0.6 * one  # about 0.18 against 0.52
    assert rms < 0.6 * one


def test_equal_scales_make_the_vector_pointless():
    one, hand, _ = final_costs(1.0, 1.0).values()
    assert abs(one - hand) < 0.01


def test_rmsprop_step_matches_torch_optim():
    data = badly_scaled_split(10.0, seed=1)
    ours = RMSpropLogisticRegression(data, lr=0.01, beta=0.9, eps=1e-8)
    w = torch.zeros(2, 1, requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    reference = torch.optim.RMSprop([w, b], lr=0.01, alpha=0.9, eps=1e-8)
    for _ in range(20):
        ours.step()
        grads, _ = propagate(w.detach(), b.detach(), data.X_train, data.Y_train)
        w.grad, b.grad = grads["dw"].clone(), grads["db"].clone()
        reference.step()
    torch.testing.assert_close(ours.w, w.detach())
    torch.testing.assert_close(ours.b, b.detach())
