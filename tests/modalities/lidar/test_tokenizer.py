"""Pillarization and the BEV tokenizer: shapes, empty flags, gradients, a naive reference."""

from __future__ import annotations

import numpy as np
import torch

from modalities.lidar.options import LidarOptions
from modalities.lidar.pillars import concat_clouds, pillarize
from modalities.lidar.tokenizer import EMPTY, BevTokenizer

from .scans import parking_lot

OPTS = LidarOptions(point_range=[0.0, -12.8, -3.0, 25.6, 12.8, 1.0], pillar_size=[0.8, 0.8], patch=4,
                    pillar_channels=8)


def _clouds(n: int = 2) -> list[torch.Tensor]:
    return [torch.from_numpy(parking_lot(np.random.default_rng(i))[0]) for i in range(n)]


def test_pillarize__matches_naive_reference():
    pts = _clouds(1)[0][:300]
    out = pillarize(pts, torch.zeros(len(pts), dtype=torch.long), 1, OPTS)
    inside = [p for p in pts.tolist() if 0 <= p[0] < 25.6 and -12.8 <= p[1] < 12.8 and -3 <= p[2] < 1]
    cells: dict[int, list] = {}
    for p in inside:  # a plain loop is fine in a test reference
        cells.setdefault(int((p[1] + 12.8) // 0.8) * 32 + int(p[0] // 0.8), []).append(p)
    assert out["pillar_cell"].tolist() == sorted(cells)
    assert out["pillar_count"].tolist() == [len(cells[c]) for c in sorted(cells)]
    feats = out["point_feats"]
    for q, c in enumerate(sorted(cells)):
        mean = np.mean(np.asarray(cells[c])[:, :3], axis=0)
        rows = feats[out["point_pillar"] == q]
        # offsets to the pillar mean sum to zero within each pillar
        np.testing.assert_allclose(rows[:, 4:7].sum(0).numpy(), 0, atol=1e-4)
        recon = rows[:, :3].numpy() * [25.6, 25.6, 4.0] + [0, -12.8, -3] - rows[:, 4:7].numpy() * [0.8, 0.8, 1]
        np.testing.assert_allclose(recon, np.broadcast_to(mean, recon.shape), atol=1e-4)


def test_tokenizer__shapes_and_empty_types():
    tok = BevTokenizer(OPTS, dim=16)
    clouds = _clouds(2)
    clouds[1] = clouds[1][clouds[1][:, 0] < 6.0]  # second scan: only the first 6 m
    tb = tok(concat_clouds(clouds))
    assert tuple(tb.tokens.shape) == (2, 64, 16) and tb.layout.grid == (8, 8)
    assert tb.types.dtype == torch.int64 and set(tb.types.unique().tolist()) == {0, EMPTY}
    empty = tb.types == EMPTY
    grid = empty.view(2, 8, 8)
    assert not grid[0].any()  # the lot covers every patch of the first scan
    assert grid[1, :, 2:].all() and not grid[1, :, 0].any()  # columns past 6.4 m are empty
    want = (OPTS.token_scale * tok.norm(tok.empty_token)).expand(int(empty[1].sum()), -1)
    torch.testing.assert_close(tb.tokens[1][empty[1]], want)


def test_tokenizer__backward_reaches_every_parameter():
    tok = BevTokenizer(OPTS, dim=16)
    clouds = _clouds(2)
    clouds[1] = clouds[1][:50]
    tb = tok(concat_clouds(clouds))
    tb.tokens.square().sum().backward()
    for name, p in tok.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_tokenizer__batch_independent():
    tok = BevTokenizer(OPTS, dim=16)
    clouds = _clouds(3)
    both = tok(concat_clouds(clouds)).tokens
    alone = tok(concat_clouds(clouds[1:2])).tokens
    torch.testing.assert_close(both[1:2], alone, atol=1e-5, rtol=1e-5)


def test_pillar_net__statistics_are_the_pillar_means_and_log_count():
    tok = BevTokenizer(OPTS, dim=16)
    pts = torch.tensor([[1.0, 0.1, -1.0, 0.2], [1.1, 0.2, 0.0, 0.4],  # one pillar, two points
                        [9.0, 3.0, -2.5, 0.8]])
    pillars = pillarize(pts, torch.zeros(3, dtype=torch.long), 1, OPTS)
    out = tok.pillar_net(pillars["point_feats"], pillars["point_pillar"], pillars["pillar_count"])
    assert out.shape == (2, OPTS.pillar_channels + 3)
    # mean height in metres above the range floor (-3 m), mean intensity x 4, log(1 + points)
    torch.testing.assert_close(out[:, -3:], torch.tensor([[2.5, 1.2, np.log(3.0)], [0.5, 3.2, np.log(2.0)]], dtype=torch.float32))


def test_tokenizer__patch_mean_ignores_empty_cells():
    """A patch's averaged pillar statistics do not depend on how much of it is empty."""
    tok = BevTokenizer(OPTS, dim=16)
    seen = []
    tok.patch_embed.register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
    one = torch.tensor([[1.0, 0.1, -1.0, 0.2], [1.1, 0.2, 0.0, 0.4]])
    two = torch.cat([one, one + torch.tensor([0.8, 0.8, 0.0, 0.0])])  # a copy one cell over
    tok(concat_clouds([one, two]))
    c = tok.pillar_net.out_channels
    first, second = seen[0][0, 32], seen[0][1, 32]  # the patch holding the points (row 4, column 0)
    torch.testing.assert_close(first[2 * c - 3:2 * c], second[2 * c - 3:2 * c])  # occupied-cell mean
    assert first[-1] == 1 / 16 and second[-1] == 2 / 16  # occupied fraction
