import pytest
import torch

from jepa_core.config import ModelConfig
from jepa_core.models import Block, Encoder, Predictor, sincos_positions
from jepa_core.tokens import TokenBatch, TokenLayout
from tests.toy_modality import ToyTokenizer

CFG = ModelConfig(dim=16, depth=2, heads=2, num_registers=2, predictor_dim=8, predictor_depth=1,
                  predictor_heads=2)


def test_sincos_positions__distinct_and_bounded():
    pos = sincos_positions((3, 4, 5), 24)
    assert pos.shape == (60, 24)
    assert pos.abs().max() <= 1.0
    assert torch.unique(pos, dim=0).shape[0] == 60


def test_sincos_positions__too_small_dim():
    with pytest.raises(ValueError, match="too small"):
        sincos_positions((3, 4, 5), 4)


def test_encoder__context_subset_equals_full_run_on_gathered_tokens():
    torch.manual_seed(0)
    enc = Encoder(ToyTokenizer(6, 16), CFG).eval()
    x = torch.randn(2, 6)
    tokens = enc.tokenize(x)
    idx = torch.tensor([[0, 2, 5], [1, 3, 4]])
    sub = enc(tokens, idx, torch.ones_like(idx, dtype=torch.bool))
    # the same computation by hand: keep only those tokens, with their positions
    manual = TokenBatch(torch.gather(tokens.tokens, 1, idx[..., None].expand(-1, -1, 16)), TokenLayout((3,)))
    enc_pos = enc.pos
    x_in = manual.tokens + enc_pos[idx]
    regs = enc.registers.expand(2, -1, -1)
    expect = enc.transformer(torch.cat([regs, x_in], 1))[:, 2:]
    torch.testing.assert_close(sub, expect)


def test_encoder__invalid_context_slots_do_not_change_valid_outputs():
    torch.manual_seed(0)
    enc = Encoder(ToyTokenizer(6, 16), CFG).eval()
    tokens = enc.tokenize(torch.randn(1, 6))
    idx_a = torch.tensor([[0, 2, 5, 0]])
    idx_b = torch.tensor([[0, 2, 5, 3]])
    valid = torch.tensor([[True, True, True, False]])
    a, b = enc(tokens, idx_a, valid), enc(tokens, idx_b, valid)
    torch.testing.assert_close(a[:, :3], b[:, :3])


def test_encoder__pooled_features_mean_and_registers():
    enc = Encoder(ToyTokenizer(6, 16), CFG)
    assert enc.pooled_features(torch.randn(3, 6)).shape == (3, 16)
    reg = Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, depth=1, heads=2, num_registers=2, pooling="registers"))
    assert reg.pooled_features(torch.randn(3, 6)).shape == (3, 16)
    with pytest.raises(ValueError, match="num_registers"):
        Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, heads=2, num_registers=0, pooling="registers"))
    concat = Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, depth=1, heads=2, pooling="concat"))
    assert concat.pooled_features(torch.randn(3, 6)).shape == (3, 6 * 16)
    with pytest.raises(LookupError, match=r"unknown pooling 'max' \(model\.pooling\); registered: "
                                          r"concat, mean, registers"):
        Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, heads=2, pooling="max"))


def test_predictor__shapes_and_padding_isolation():
    torch.manual_seed(0)
    pred = Predictor(TokenLayout((6,)), 16, 12, CFG).eval()
    z = torch.randn(2, 3, 16)
    ctx_idx = torch.tensor([[0, 1, 2], [3, 4, 5]])
    ctx_valid = torch.ones(2, 3, dtype=torch.bool)
    tgt_idx = torch.tensor([[[3, 4], [5, 0]], [[0, 1], [2, 0]]])
    tgt_valid = torch.tensor([[[True, True], [True, False]], [[True, True], [True, False]]])
    out = pred(z, ctx_idx, ctx_valid, tgt_idx, tgt_valid)
    assert out.shape == (2, 2, 2, 12)
    # a padded target slot never influences the valid ones
    tgt_idx2 = tgt_idx.clone()
    tgt_idx2[0, 1, 1] = 4
    out2 = pred(z, ctx_idx, ctx_valid, tgt_idx2, tgt_valid)
    torch.testing.assert_close(out[0, 1, 0], out2[0, 1, 0])


def test_block__adaln_zero_starts_as_identity():
    block = Block(16, 2, cond_dim=4)
    x = torch.randn(2, 5, 16)
    torch.testing.assert_close(block(x, None, torch.randn(2, 4)), x)
    with pytest.raises(ValueError, match="cond"):
        block(x)
