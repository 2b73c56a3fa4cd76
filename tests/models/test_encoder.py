import pytest
import torch

from jepa_core.config import ConfigError, ModelConfig
from jepa_core.models import Block, Encoder, MaskedPredictorConfig, Predictor, sincos_coords, sincos_positions
from jepa_core.tokens import TokenBatch, TokenLayout
from tests.toy_modality import ToyTokenizer

CFG = ModelConfig(dim=16, depth=2, heads=2, num_registers=2)
PRED = MaskedPredictorConfig(dim=8, depth=1, heads=2)


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
    reg = Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, depth=1, heads=2, num_registers=2), "registers")
    assert reg.pooled_features(torch.randn(3, 6)).shape == (3, 16)
    with pytest.raises(ValueError, match="num_registers"):
        Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, heads=2, num_registers=0), {"name": "registers"})
    concat = Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, depth=1, heads=2), "concat")
    assert concat.pooled_features(torch.randn(3, 6)).shape == (3, 6 * 16)
    with pytest.raises(ConfigError, match=r"unknown pooling 'max' \(pooling\.name\); registered: "
                                          r"axis_mean, concat, mean, mean_std, registers, ui_segments"):
        Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, heads=2), "max")


def test_axis_mean_pooling__mean_over_one_grid_axis_of_the_valid_tokens():
    from jepa_core.models.pooling import create_pooling

    pool = create_pooling({"name": "axis_mean", "axis": -1})
    pool.bind((2, 3))                                    # (frequency, time)
    x = torch.randn(4, 6, 5)
    valid = torch.ones(4, 6, dtype=torch.bool)
    valid[:, [2, 5]] = False                             # the last time step is padding
    expected = x.view(4, 2, 3, 5)[:, :, :2].mean(2).flatten(1)
    torch.testing.assert_close(pool(x, torch.zeros(4, 0, 5), valid), expected)
    rows = create_pooling({"name": "axis_mean", "axis": 0})
    rows.bind((2, 3))
    torch.testing.assert_close(rows(x, torch.zeros(4, 0, 5), torch.ones(4, 6, dtype=torch.bool)),
                               x.view(4, 2, 3, 5).mean(1).flatten(1))
    with pytest.raises(ValueError, match=r"pooling.axis=2 is not an axis of the 2-D token grid \(2, 3\)"):
        create_pooling({"name": "axis_mean", "axis": 2}).bind((2, 3))


def test_mean_std_pooling__mean_and_std_of_the_valid_tokens_side_by_side():
    from jepa_core.models.pooling import create_pooling

    x = torch.randn(3, 6, 5)
    valid = torch.ones(3, 6, dtype=torch.bool)
    valid[1, 4:] = False
    out = create_pooling("mean_std")(x, torch.zeros(3, 0, 5), valid)
    for b in range(3):
        kept = x[b, valid[b]]
        torch.testing.assert_close(out[b], torch.cat([kept.mean(0), kept.std(0, unbiased=False)]))
    enc = Encoder(ToyTokenizer(6, 16), ModelConfig(dim=16, depth=1, heads=2), "mean_std")
    assert enc.pooled_features(torch.randn(2, 6)).shape == (2, 32)


def test_predictor__shapes_and_padding_isolation():
    torch.manual_seed(0)
    pred = Predictor(TokenLayout((6,)), 16, 12, PRED).eval()
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


# --- tokens without a grid: positions from coords, per-batch N ---------------------------------

def _events(lengths: list[int], seed: int = 0) -> dict:
    from tests.toy_modality import pad_events

    g = torch.Generator().manual_seed(seed)
    return pad_events([{"values": torch.randn(k, generator=g),
                        "times": torch.cumsum(torch.rand(k, generator=g) + 0.5, 0)} for k in lengths])


def test_encoder__no_grid_runs_batches_of_different_lengths():
    from tests.toy_modality import ToyEventTokenizer

    torch.manual_seed(0)
    enc = Encoder(ToyEventTokenizer(16), CFG).eval()
    assert enc.layout is None and enc.pos is None
    for lengths in ([3, 5], [9, 2, 4]):
        feats, valid = enc.token_features(_events(lengths))
        assert feats.shape == (len(lengths), max(lengths), 16) and valid.sum(1).tolist() == lengths
        assert enc.pooled_features(_events(lengths)).shape == (len(lengths), 16)


def test_encoder__no_grid_padding_does_not_change_valid_outputs():
    from tests.toy_modality import ToyEventTokenizer

    torch.manual_seed(0)
    enc = Encoder(ToyEventTokenizer(16), CFG).eval()
    short = _events([4, 3])
    longer = _events([4, 3, 7])  # same first two samples, padded to 7 tokens
    a, _ = enc.token_features(short)
    b, _ = enc.token_features(longer)
    torch.testing.assert_close(b[0, :4], a[0, :4])
    torch.testing.assert_close(b[1, :3], a[1, :3])
    torch.testing.assert_close(enc.pooled_features(longer)[:2], enc.pooled_features(short))


def test_encoder__no_grid_positions_come_from_coords():
    from tests.toy_modality import ToyEventTokenizer

    torch.manual_seed(0)
    enc = Encoder(ToyEventTokenizer(16), CFG).eval()
    batch = _events([5])
    shifted = {**batch, "times": batch["times"] + 3.0}
    assert not torch.allclose(enc.token_features(batch)[0], enc.token_features(shifted)[0])
    tokens = enc.tokenize(batch)
    torch.testing.assert_close(enc.positions(tokens), sincos_coords(tokens.coords, 16))


def test_encoder__coords_on_a_grid_at_the_cells_match_grid_positions():
    torch.manual_seed(0)
    enc = Encoder(ToyTokenizer(6, 16), CFG).eval()
    tokens = enc.tokenize(torch.randn(2, 6))
    at_cells = TokenBatch(tokens.tokens, tokens.layout,
                          coords=torch.arange(6, dtype=torch.float64).expand(2, 6)[..., None])
    torch.testing.assert_close(enc(at_cells), enc(tokens))
    moved = TokenBatch(tokens.tokens, tokens.layout, coords=at_cells.coords * 0.5)
    assert not torch.allclose(enc(moved), enc(tokens))


def test_encoder__no_grid_config_errors():
    from tests.toy_modality import ToyEventTokenizer

    with pytest.raises(ValueError, match="attention_window applies to token grids"):
        Encoder(ToyEventTokenizer(16), ModelConfig(dim=16, heads=2, attention_window=1))
    with pytest.raises(ValueError, match="pooling.name='concat' needs a fixed token grid"):
        Encoder(ToyEventTokenizer(16), ModelConfig(dim=16, heads=2), "concat")
    tok = ToyEventTokenizer(16)
    tok.coord_dim = 0
    with pytest.raises(ValueError, match="must set coord_dim"):
        Encoder(tok, ModelConfig(dim=16, heads=2))


def test_encoder__coords_with_the_wrong_number_of_axes():
    from tests.toy_modality import ToyEventTokenizer

    enc = Encoder(ToyEventTokenizer(16), CFG)
    tokens = enc.tokenize(_events([3, 4]))
    bad = TokenBatch(tokens.tokens, None, valid=tokens.valid, coords=tokens.coords.expand(-1, -1, 2))
    with pytest.raises(ValueError, match="coord_dim=1"):
        enc(bad)


def test_predictor__coords_at_grid_cells_match_grid_positions():
    torch.manual_seed(0)
    grid_pred = Predictor(TokenLayout((6,)), 16, 12, PRED).eval()
    free_pred = Predictor(None, 16, 12, PRED).eval()
    free_pred.load_state_dict(grid_pred.state_dict())
    z = torch.randn(2, 3, 16)
    ctx_idx = torch.tensor([[0, 1, 2], [3, 4, 5]])
    ctx_valid = torch.ones(2, 3, dtype=torch.bool)
    tgt_idx = torch.tensor([[[3, 4], [5, 0]], [[0, 1], [2, 0]]])
    tgt_valid = torch.tensor([[[True, True], [True, False]], [[True, True], [True, False]]])
    coords = torch.arange(6, dtype=torch.float64).expand(2, 6)[..., None]
    want = grid_pred(z, ctx_idx, ctx_valid, tgt_idx, tgt_valid)
    torch.testing.assert_close(free_pred(z, ctx_idx, ctx_valid, tgt_idx, tgt_valid, coords=coords), want)
    with pytest.raises(ValueError, match="pass the batch's coords"):
        free_pred(z, ctx_idx, ctx_valid, tgt_idx, tgt_valid)


# --- conditions ---------------------------------------------------------------------------------

def _cond_predictor(layout, cond_dim: int = 3) -> Predictor:
    torch.manual_seed(0)
    pred = Predictor(layout, 16, 12, PRED, cond_dim=cond_dim).eval()
    for block in pred.transformer.blocks:  # leave AdaLN-zero's identity start
        torch.nn.init.normal_(block.modulation[1].weight, std=0.3)
    return pred


def _grid_inputs():
    """Tokens of a (3, 2) grid (3 frames of 2 tokens); sample 0 has none in frame 1."""
    ctx_idx = torch.tensor([[0, 1, 4], [2, 3, 5]])
    tgt_idx = torch.tensor([[[5, 0]], [[0, 4]]])
    return (torch.randn(2, 3, 16), ctx_idx, torch.ones(2, 3, dtype=torch.bool), tgt_idx,
            torch.ones(2, 1, 2, dtype=torch.bool))


def test_predictor__condition_changes_the_prediction():
    pred = _cond_predictor(TokenLayout((3, 2)))
    args = _grid_inputs()
    c = torch.randn(2, 3)
    assert not torch.allclose(pred(*args, cond=c), pred(*args, cond=c + 1))


def test_predictor__per_frame_conditions_broadcast_to_each_frame():
    pred = _cond_predictor(TokenLayout((3, 2)))
    args = _grid_inputs()
    c = torch.randn(2, 3)
    same = pred(*args, cond=c)
    torch.testing.assert_close(pred(*args, cond=c[:, None].expand(2, 3, 3)), same)
    per_frame = torch.randn(2, 3, 3)
    out = pred(*args, cond=per_frame)
    assert not torch.allclose(out, same)
    moved = per_frame.clone()
    moved[:, 1] += 5.0  # frame 1: no token of sample 0, two context tokens of sample 1
    again = pred(*args, cond=moved)
    torch.testing.assert_close(again[0], out[0])
    assert not torch.allclose(again[1], out[1])


def test_predictor__condition_errors():
    pred = _cond_predictor(TokenLayout((3, 2)))
    args = _grid_inputs()
    with pytest.raises(ValueError, match="batch has no conditions"):
        pred(*args)
    with pytest.raises(ValueError, match="B = 2 .* A = 3"):
        pred(*args, cond=torch.randn(3, 3))
    with pytest.raises(ValueError, match="B = 2 .* A = 3"):
        pred(*args, cond=torch.randn(2, 4))
    with pytest.raises(ValueError, match="first axis has T frames"):
        pred(*args, cond=torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match="predictor is unconditioned"):
        Predictor(TokenLayout((3, 2)), 16, 12, PRED)(*args, cond=torch.randn(2, 3))
    free = _cond_predictor(None)
    coords = torch.rand(2, 6, 1)
    assert free(*args, cond=torch.randn(2, 3), coords=coords).shape == (2, 1, 2, 12)
    with pytest.raises(ValueError, match="grid is None"):
        free(*args, cond=torch.randn(2, 3, 3), coords=coords)


def test_block__per_token_condition_equal_to_per_sequence_when_constant():
    torch.manual_seed(0)
    block = Block(16, 2, cond_dim=4)
    torch.nn.init.normal_(block.modulation[1].weight, std=0.3)
    x, c = torch.randn(2, 5, 16), torch.randn(2, 4)
    torch.testing.assert_close(block(x, None, c[:, None].expand(2, 5, 4)), block(x, None, c))
