"""The tubelet tokenizer: shapes, validity, 3-D positions, the crops and their determinism."""

from __future__ import annotations

import torch

from jepa_core.config import build_config
from jepa_core.models.positions import sincos_positions
from jepa_core.registry import create_modality
from jepa_core.run import build_model
from modalities.video.options import VideoOptions
from modalities.video.sampling import crop_clips, crop_starts
from modalities.video.tokenizer import TubeletTokenizer

OPTS = VideoOptions(image_size=16, patch_size=4, tubelet_size=2, frames_per_clip=4, crop_window=8)


def _batch(b=3, w=8, frames=(8, 8, 3)):
    video = torch.randint(0, 256, (b, w, 3, 16, 16), dtype=torch.uint8)
    return {"video": video, "frames": torch.tensor(frames), "error": [""] * b}


def test_tokenizer__tubelet_grid_shapes_and_validity():
    tok = TubeletTokenizer(OPTS, dim=12)
    out = tok(_batch())
    assert tok.layout.grid == (2, 4, 4) and out.tokens.shape == (3, 32, 12)
    assert out.valid.sum(1).tolist() == [32, 32, 32]  # 3 real frames of 4: both tubelets hold one
    one = tok(_batch(frames=(8, 1, 2)))
    assert one.valid.sum(1).tolist() == [32, 16, 16]  # a one-frame clip fills one tubelet
    assert not one.valid[1, 16:].any()


def test_tokenizer__tokens_are_a_3d_convolution_of_the_centre_crop():
    tok = TubeletTokenizer(OPTS, dim=6)
    batch = _batch(b=1, frames=(8,))
    clip = batch["video"][:, 2:6].float().transpose(1, 2)  # centre crop of 4 in 8
    x = (clip - tok.mean) / tok.std
    want = torch.nn.functional.conv3d(x, tok.proj.weight, tok.proj.bias, stride=(2, 4, 4))
    assert torch.allclose(tok(batch).tokens, want.flatten(2).transpose(1, 2), atol=1e-5)


def test_tokenizer__one_frame_clip_repeats_the_frame_to_one_tubelet():
    tok = TubeletTokenizer(OPTS, dim=6)
    frame = torch.randint(0, 256, (1, 1, 3, 16, 16), dtype=torch.uint8)
    out = tok({"video": frame.expand(1, 8, -1, -1, -1), "frames": torch.tensor([1])})
    pair = frame.expand(1, 2, -1, -1, -1).float().transpose(1, 2)
    want = torch.nn.functional.conv3d((pair - tok.mean) / tok.std, tok.proj.weight, tok.proj.bias,
                                      stride=(2, 4, 4))
    assert torch.allclose(out.tokens[:, :16], want.flatten(2).transpose(1, 2), atol=1e-5)


def test_tokenizer__encoder_positions_are_3d_sincos():
    plugin = create_modality("video")
    cfg = build_config({"modality": "video"}, plugin.default_config(),
                       {"options": {"image_size": 16, "patch_size": 4, "frames_per_clip": 4},
                        "model": {"dim": 24, "depth": 1, "heads": 2, "predictor_dim": 16,
                                  "predictor_depth": 1, "predictor_heads": 2}})
    state = {"options": plugin._opts(cfg, None).__dict__}
    model = build_model(cfg, plugin, state)
    assert torch.equal(model.encoder.pos, sincos_positions((2, 4, 4), 24))


def test_tokenizer__temporal_crop_is_keyed_by_seed_step_and_sample_id():
    frames = torch.tensor([16, 16, 16, 5])
    ids = torch.tensor([3, 4, 5, 6])
    a = crop_starts(frames, 4, ids, step=7, seed=1)
    assert torch.equal(a, crop_starts(frames, 4, ids, step=7, seed=1))
    assert torch.equal(a[2:], crop_starts(frames[2:], 4, ids[2:], step=7, seed=1))  # batch-independent
    assert not torch.equal(a, crop_starts(frames, 4, ids, step=8, seed=1))
    assert bool((a >= 0).all()) and bool((a <= frames - 4).all())
    steps = torch.stack([crop_starts(frames[:1], 4, ids[:1], step=s) for s in range(200)])
    assert set(steps.flatten().tolist()) == set(range(13))  # every start of 16 - 4 + 1 is drawn


def test_tokenizer__augment_crops_frames_and_space_deterministically():
    tok = TubeletTokenizer(OPTS, dim=6)
    batch = _batch()
    ids = torch.tensor([0, 1, 2])
    a, b = tok.augment(batch, ids, 5, 0), tok.augment(batch, ids, 5, 0)
    assert a["video"].shape == (3, 4, 3, 16, 16) and torch.equal(a["video"], b["video"])
    assert not torch.equal(a["video"], tok.augment(batch, ids, 6, 0)["video"])
    assert tok(a).tokens.shape == (3, 32, 6)
    plain = TubeletTokenizer(VideoOptions(**{**OPTS.__dict__, "crop_scale": [1.0, 1.0]}), dim=6)
    got = plain.augment(batch, ids, 5, 0)
    starts = crop_starts(batch["frames"], 4, ids, 5, 0)
    want, _ = crop_clips(batch["video"], batch["frames"], starts, 4)
    assert torch.equal(got["video"], want)


def test_preset__sets_the_encoder_the_predictor_and_the_tubelet_patch():
    from jepa_core.presets import vit_preset

    plugin = create_modality("video")
    sizes = vit_preset("vit_tiny_16")
    for spelling in ({"options": {"preset": "vit_tiny_16"}}, {"model": {"preset": "vit_tiny_16"}}):
        cfg = build_config({"modality": "video"}, plugin.default_config(), spelling,
                           {"options": {"image_size": 64}})
        opts = plugin._opts(cfg, None)
        assert opts.patch_size == sizes["patch_size"] == 16
        assert (cfg.model.dim, cfg.model.depth) == (sizes["model"]["dim"], sizes["model"]["depth"])
        assert (cfg.predictor.dim, cfg.predictor.depth) == (sizes["model"]["predictor_dim"],
                                                            sizes["model"]["predictor_depth"])
