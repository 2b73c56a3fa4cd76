"""Every registered modality through one forward/backward step of the JEPA engine."""

import pytest
import torch

from jepa_core.config import build_config
from jepa_core.registry import create_modality, list_modalities
from jepa_core.run import build_model

TINY = {"model": {"dim": 16, "depth": 1, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
                  "predictor_heads": 2, "num_registers": 1}}


@pytest.mark.parametrize("name", sorted(list_modalities()))
def test_modality__forward_backward_on_demo_data(name):
    plugin = create_modality(name)
    cfg = build_config({"modality": name}, plugin.default_config(), TINY)
    dataset, state = plugin.load(plugin.demo_data(), cfg, None)
    batch = plugin.collate([dataset[i] for i in range(2)])
    model = build_model(cfg, plugin, state)
    out = model(batch, torch.arange(2), step=0)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    grads = [p.grad for p in model.encoder.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    teacher = model.target.encoder  # None: teacher-free (target.kind none, the world default)
    assert teacher is None or all(p.grad is None for p in teacher.parameters())
    feats = model.target_encoder.pooled_features(batch)
    assert feats.shape[0] == 2 and feats.shape[1] % cfg.model.dim == 0  # mean/registers or concat pooling
