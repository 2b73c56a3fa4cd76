"""The screen encoder: each event's screenshot to one vector, with the image plugin's pieces.

A screenshot is cut into patches by the image plugin's patch tokenizer
(:class:`modalities.image.PatchTokenizer`: per-channel normalization and a strided
convolution), given the same fixed 2-D sin-cos positions as the image encoder
(:func:`jepa_core.models.sincos_positions`), mixed by a small ViT
(:class:`jepa_core.models.transformer.Transformer`) and mean-pooled. It is part of the
event tokenizer, so it trains end to end with the UI encoder.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from jepa_core.models.positions import sincos_positions
from jepa_core.models.transformer import Transformer


class ScreenEncoder(nn.Module):
    """``[M, 3, S, S]`` screenshots to ``[M, dim]`` screen embeddings.

    Args:
        size: side in pixels of the (already resized) screenshots.
        patch: pixels per patch side; divides ``size``.
        dim: the embedding width (the UI encoder's ``model.dim``).
        depth: transformer blocks over the patches (0: the patch embeddings are pooled as
            they are).
        heads: attention heads of those blocks; divides ``dim``.

    Examples:
        >>> enc = ScreenEncoder(size=16, patch=4, dim=8, depth=1, heads=2)
        >>> enc(torch.zeros(3, 3, 16, 16, dtype=torch.uint8)).shape
        torch.Size([3, 8])
    """

    def __init__(self, size: int, patch: int, dim: int, depth: int = 1, heads: int = 4) -> None:
        super().__init__()
        from modalities.image import ImageOptions, PatchTokenizer

        self.patches = PatchTokenizer(ImageOptions(image_size=size, patch_size=patch), dim)
        self.grid = (size // patch, size // patch)
        self.blocks = Transformer(dim, depth, heads) if depth > 0 else None
        self.out = nn.Linear(dim, dim)

    def forward(self, shots: Tensor) -> Tensor:
        x = self.patches({"image": shots}).tokens
        x = x + sincos_positions(self.grid, x.shape[-1], x.device, x.dtype)
        if self.blocks is not None:
            x = self.blocks(x)
        return self.out(x.mean(1))
