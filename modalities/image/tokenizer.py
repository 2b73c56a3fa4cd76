"""The patch tokenizer: a strided convolution over the image, one token per patch (ViT)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from jepa_core.modality import DataError, Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout

from .augment import crop_boxes, resized_crop
from .options import ImageOptions
from .skips import SkipLog


class PatchTokenizer(Tokenizer):
    """``[B, 3, S, S]`` images to ``(S/p)^2`` patch tokens on a 2-D grid, row-major.

    The ViT / I-JEPA patch embedding: pixel values scaled to ``[0, 1]``, normalized per
    channel by ``options.mean``/``std``, and a ``p x p`` convolution of stride ``p``. The
    encoder adds fixed 2-D sin-cos positions built from the grid. Images of another size
    (a multiple of the patch: a trained run embedding at another ``image_size``) give
    tokens on their own grid, whose positions the encoder resamples from the training
    grid's. In training,
    :meth:`augment` takes a random resized crop (and optionally a flip) of every image
    first, on the device (see :mod:`modalities.image.augment`).

    Args:
        opts: the plugin options (``image_size``, ``patch_size``, augmentation).
        dim: the token width (``model.dim``).
        skips: where the images a batch says were skipped (``batch["skipped"]``, with
            ``options.on_bad_image=skip``) are recorded, for the count at the end.

    Shapes:
        ``batch["image"]`` uint8 or float ``[B, 3, H, W]`` in ``[0, 255]`` (``H = W = S``,
        ``options.image_size``, in training) -> ``TokenBatch.tokens`` ``[B, (H/p)(W/p), dim]``.

    Examples:
        >>> tok = PatchTokenizer(ImageOptions(image_size=16, patch_size=4), dim=8)
        >>> tok({"image": torch.zeros(2, 3, 16, 16, dtype=torch.uint8)}).tokens.shape
        torch.Size([2, 16, 8])
    """

    def __init__(self, opts: ImageOptions, dim: int, skips: SkipLog | None = None) -> None:
        super().__init__()
        self.opts = opts
        self.skips = skips
        self.layout = TokenLayout(opts.grid)
        self.dim = dim
        self.proj = nn.Conv2d(3, dim, kernel_size=opts.patch_size, stride=opts.patch_size)
        self.register_buffer("mean", torch.tensor(opts.mean).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("std", torch.tensor(opts.std).view(1, 3, 1, 1) * 255.0, persistent=False)

    def augment(self, batch: Any, sample_ids: Tensor, step: int, seed: int) -> Any:
        """Random resized crop (``options.crop_scale``/``crop_ratio``) and flip (``hflip``)."""
        o = self.opts
        if len(sample_ids) != len(batch["image"]):
            raise ValueError(f"{len(sample_ids)} sample ids for a batch of {len(batch['image'])} images")
        if tuple(o.crop_scale) == (1.0, 1.0) and not o.hflip:
            return batch
        boxes = crop_boxes(sample_ids, step, seed, tuple(o.crop_scale), tuple(o.crop_ratio), o.hflip)
        return {**batch, "image": resized_crop(batch["image"], boxes)}

    def forward(self, batch: Any) -> TokenBatch:
        errors = [e for e in batch.get("error", ()) if e]  # a list of str: no device sync
        if errors:
            raise DataError(errors[0] + (f" (and {len(errors) - 1} more in this batch)" if len(errors) > 1 else ""))
        if self.skips is not None:
            self.skips.decoded([s for s in batch.get("skipped", ()) if s])
        images = batch["image"]
        p = self.opts.patch_size
        if images.dim() != 4 or images.shape[1] != 3 or images.shape[2] % p or images.shape[3] % p \
                or min(images.shape[2:]) < p:
            raise ValueError(f"expected images [B, 3, H, W] with H and W multiples of the {p} px patch "
                             f"(trained at {self.opts.image_size}), got {tuple(images.shape)}")
        grid = (images.shape[2] // p, images.shape[3] // p)
        x = (images.to(self.proj.weight.dtype) - self.mean) / self.std
        tokens = self.proj(x).flatten(2).transpose(1, 2)
        return TokenBatch(tokens, self.layout if grid == self.layout.grid else TokenLayout(grid))
