"""The ``Tokenizer.augment`` hook: the masked method augments in training only, with ids and step."""

from __future__ import annotations

import torch

from jepa_core.config import build_config
from jepa_core.method import JEPA
from tests.toy_modality import ToyModality, ToyTokenizer


class _Shifting(ToyTokenizer):
    """Adds ``step`` to every feature and records each call."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.calls = []

    def augment(self, batch, sample_ids, step, seed):
        self.calls.append((sample_ids.tolist(), step, seed))
        return batch + step


def test_jepa__augments_in_training_only():
    plugin = ToyModality()
    cfg = build_config(plugin.default_config(), {"optim": {"seed": 5}})
    tok = _Shifting(6, cfg.model.dim)
    model = JEPA.build(tok, cfg)
    x = torch.randn(4, 6)
    model.train()
    shifted = model(x, torch.arange(4) + 2, step=3).loss
    assert tok.calls == [([2, 3, 4, 5], 3, 5)]
    plain = JEPA.build(ToyTokenizer(6, cfg.model.dim), cfg)
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(plain(x + 3, torch.arange(4) + 2, step=3).loss, shifted)
    model.eval()
    model(x, torch.arange(4), step=3)
    model.target_encoder.pooled_features(x)
    assert len(tok.calls) == 1


def test_tokenizer__augment_default_is_identity():
    tok = ToyTokenizer(3, 4)
    x = torch.randn(2, 3)
    assert tok.augment(x, torch.arange(2), 0, 0) is x
