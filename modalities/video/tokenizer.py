"""The tubelet tokenizer: a strided 3-D convolution over the clip, one token per tubelet (V-JEPA)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from jepa_core.modality import DataError, Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout
from modalities.image.augment import crop_boxes, resized_crop

from .options import VideoOptions
from .sampling import crop_clips, crop_starts


class TubeletTokenizer(Tokenizer):
    """Clips ``[B, W, 3, S, S]`` to ``T/t x S/p x S/p`` tubelet tokens on a 3-D grid.

    V-JEPA's patch embedding: pixel values scaled to ``[0, 1]`` and normalized per
    channel, then a ``t x p x p`` convolution of the same stride (``tubelet_size``,
    ``patch_size``); tokens in ``(T', H', W')`` row-major order, and the encoder adds
    fixed 3-D sin-cos positions built from that grid. A window longer than
    ``frames_per_clip`` is cropped: at a random start in training (:meth:`augment`,
    keyed by seed, step and sample id, with V-JEPA's random resized crop of one box per
    clip), in the centre otherwise. Tubelets holding no real frame (a padded short clip,
    the time steps after a one-frame image) are invalid tokens.

    Args:
        opts: the plugin options.
        dim: the token width (``model.dim``).

    Shapes:
        ``batch["video"]`` uint8 or float ``[B, W, 3, S, S]``, ``batch["frames"]`` ``[B]``
        -> ``TokenBatch.tokens`` ``[B, T' * H' * W', dim]``.

    Examples:
        >>> tok = TubeletTokenizer(VideoOptions(image_size=16, patch_size=4), dim=8)
        >>> out = tok({"video": torch.zeros(2, 8, 3, 16, 16), "frames": torch.tensor([8, 1])})
        >>> out.tokens.shape, out.valid.sum(1).tolist()
        (torch.Size([2, 64, 8]), [64, 16])
    """

    def __init__(self, opts: VideoOptions, dim: int) -> None:
        super().__init__()
        self.opts = opts
        self.layout = TokenLayout(opts.grid)
        self.dim = dim
        t, p = opts.tubelet_size, opts.patch_size
        self.proj = nn.Conv3d(3, dim, kernel_size=(t, p, p), stride=(t, p, p))
        self.register_buffer("mean", torch.tensor(opts.mean).view(1, 3, 1, 1, 1) * 255.0, persistent=False)
        self.register_buffer("std", torch.tensor(opts.std).view(1, 3, 1, 1, 1) * 255.0, persistent=False)

    def augment(self, batch: Any, sample_ids: Tensor, step: int, seed: int) -> Any:
        """Random temporal crop of ``frames_per_clip`` frames and one resized-crop box per clip."""
        o = self.opts
        video, frames = batch["video"], torch.as_tensor(batch["frames"])
        if len(sample_ids) != len(video):
            raise ValueError(f"{len(sample_ids)} sample ids for a batch of {len(video)} clips")
        starts = crop_starts(frames.to(video.device), o.frames_per_clip, sample_ids, step, seed)
        video, frames = crop_clips(video, frames, starts, o.frames_per_clip)
        if tuple(o.crop_scale) != (1.0, 1.0) or o.hflip:
            b, f = video.shape[:2]
            boxes = crop_boxes(sample_ids, step, seed, tuple(o.crop_scale), tuple(o.crop_ratio), o.hflip)
            flat = resized_crop(video.flatten(0, 1), boxes.repeat_interleave(f, dim=0))
            video = flat.view(b, f, *flat.shape[1:])
        return {**batch, "video": video, "frames": frames}

    def forward(self, batch: Any) -> TokenBatch:
        errors = [e for e in batch.get("error", ()) if e]
        if errors:
            raise DataError(errors[0] + (f" (and {len(errors) - 1} more in this batch)" if len(errors) > 1 else ""))
        o = self.opts
        video = batch["video"]
        s = o.image_size
        if video.dim() != 5 or tuple(video.shape[2:]) != (3, s, s):
            raise ValueError(f"expected clips [B, W, 3, {s}, {s}], got {tuple(video.shape)}")
        frames = torch.as_tensor(batch["frames"], device=video.device)
        if video.shape[1] != o.frames_per_clip:  # not cropped by augment: the centre crop
            video, frames = crop_clips(video, frames, crop_starts(frames, o.frames_per_clip),
                                       o.frames_per_clip)
        x = video.to(self.proj.weight.dtype).transpose(1, 2)  # [B, 3, F, S, S]
        x = (x - self.mean) / self.std
        tokens = self.proj(x).flatten(2).transpose(1, 2)
        t, h, w = self.layout.grid
        real_steps = -(-frames.to(torch.int64) // o.tubelet_size)  # tubelets holding a real frame
        valid = torch.arange(t, device=video.device)[None] < real_steps[:, None]
        valid = valid[:, :, None].expand(-1, -1, h * w).reshape(len(video), t * h * w)
        return TokenBatch(tokens, self.layout, valid=valid)
