"""The action-conditioned predictor: block-causal over time, AdaLN-zero on actions."""

import torch

from jepa_core.models.action_predictor import ActionPredictor, ActionPredictorConfig


def _predictor(seed: int = 0) -> ActionPredictor:
    torch.manual_seed(seed)
    p = ActionPredictor(8, 2, 6, ActionPredictorConfig(dim=16, depth=2, heads=2, action_dim=8))
    torch.nn.init.normal_(p.action_embed[2].weight, std=0.5)
    for block in p.transformer.blocks:  # leave AdaLN-zero's zero init, so actions matter
        torch.nn.init.normal_(block.modulation[1].weight, std=0.3)
    return p.eval()


def test_action_predictor__changing_a_future_action_or_frame_leaves_the_past_unchanged():
    p = _predictor()
    z, a = torch.randn(3, 6, 8), torch.randn(3, 6, 2)
    out = p(z, a)
    a2, z2 = a.clone(), z.clone()
    a2[:, 4] += 1.0
    z2[:, 4] += 1.0
    out2 = p(z2, a2)
    assert torch.allclose(out[:, :4], out2[:, :4], atol=1e-6)
    assert not torch.allclose(out[:, 4:], out2[:, 4:], atol=1e-3)


def test_action_predictor__actions_condition_the_prediction():
    p = _predictor()
    z, a = torch.randn(2, 3, 8), torch.randn(2, 3, 2)
    assert not torch.allclose(p(z, a), p(z, a + 1.0), atol=1e-4)


def test_action_predictor__zero_init_ignores_actions():
    torch.manual_seed(0)
    p = ActionPredictor(8, 2, 4, ActionPredictorConfig(dim=16, depth=1, heads=2)).eval()
    z, a = torch.randn(2, 3, 8), torch.randn(2, 3, 2)
    assert torch.allclose(p(z, a), p(z, torch.zeros_like(a)))


def test_rollout__equals_feeding_predictions_back_by_hand():
    p = _predictor()
    z, a = torch.randn(2, 2, 8), torch.randn(2, 2 + 3 - 1, 2)
    out = p.rollout(z, a)
    frames = z
    for k in range(3):
        nxt = p(frames, a[:, :frames.shape[1]])[:, -1:]
        assert torch.allclose(out[:, k:k + 1], nxt, atol=1e-6)
        frames = torch.cat([frames, nxt], 1)


def test_rollout__keeps_the_last_max_frames():
    p = _predictor()
    z, a = torch.randn(1, 5, 8), torch.randn(1, 5 + 4 - 1, 2)
    assert p.rollout(z, a).shape == (1, 4, 8)  # 5 + 3 fed-back frames > max_frames 6: windowed
