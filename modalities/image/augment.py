"""I-JEPA's training augmentation on the device: random resized crop and horizontal flip.

Crop boxes and flips are drawn per sample from Philox keyed by ``(seed, step, sample
id)`` (the generator behind the masks, :mod:`jepa_core.ops.masking.philox`, on its own
stream tag), so a sample's augmentation does not depend on its batch, its rank or on
where the run was resumed. The whole batch is then cropped, flipped and resampled in one
``grid_sample`` call (bilinear), on whatever device the batch is on.

The boxes follow torchvision's ``RandomResizedCrop``: up to 10 tries of an area drawn
uniformly from ``scale`` and an aspect ratio log-uniformly from ``ratio``; the first box
that fits the image is taken, and the whole image when none does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.ops.masking.philox import philox4x32, sample_counters, seed_key

#: Philox stream tag of the image augmentation (the maskers use tags 0-3).
TAG_AUGMENT = 0x21
TRIES = 10


def _uniform(words: Tensor) -> Tensor:
    """Floats in ``[0, 1)`` from 32-bit words (24 bits, exact in float32)."""
    return (words >> 8).to(torch.float64) * (1.0 / 16777216.0)


def crop_boxes(sample_ids: Tensor, step: int, seed: int, scale: tuple[float, float],
               ratio: tuple[float, float], hflip: bool) -> Tensor:
    """Per-sample crop boxes as fractions of the image, and flips.

    Returns:
        ``[B, 5]`` float64 on the ids' device: ``(left, top, width, height, flip)``, the
        box in units of the image side (``[0, 1]``), ``flip`` 1.0 or 0.0.

    Examples:
        >>> ids = torch.tensor([3, 7])
        >>> torch.equal(crop_boxes(ids, 5, 0, (0.3, 1.0), (0.75, 1.33), True)[1],
        ...             crop_boxes(ids[1:], 5, 0, (0.3, 1.0), (0.75, 1.33), True)[0])
        True
    """
    ids = sample_ids.detach().to(torch.int64)  # drawn where the ids are: no host sync
    c1, c2, c3 = sample_counters(ids, step, TAG_AUGMENT)
    tries = torch.arange(TRIES + 1, dtype=torch.int64, device=ids.device)[:, None]
    words = philox4x32(tries, c1[None], c2[None], c3[None], *seed_key(seed))  # [T+1, B, 4]
    u = _uniform(words)
    area = scale[0] + (scale[1] - scale[0]) * u[:TRIES, :, 0]
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * u[:TRIES, :, 1]
    aspect = torch.exp(log_r)
    w, h = torch.sqrt(area * aspect), torch.sqrt(area / aspect)
    fits = (w <= 1) & (h <= 1)
    first = torch.where(fits.any(0), fits.to(torch.int8).argmax(0), -1)  # [B]
    take = first.clamp(min=0)[None]
    w, h = w.gather(0, take)[0], h.gather(0, take)[0]
    left = u[:TRIES, :, 2].gather(0, take)[0] * (1 - w)
    top = u[:TRIES, :, 3].gather(0, take)[0] * (1 - h)
    none = first < 0
    w, h = torch.where(none, 1.0, w), torch.where(none, 1.0, h)
    left, top = torch.where(none, 0.0, left), torch.where(none, 0.0, top)
    flip = (u[TRIES, :, 0] < 0.5).to(torch.float64) if hflip else torch.zeros_like(w)
    return torch.stack([left, top, w, h, flip], dim=1)


def resized_crop(images: Tensor, boxes: Tensor) -> Tensor:
    """Crop each image to its box (flipped where asked) and resample to the input size.

    Args:
        images: ``[B, C, S, S]`` (any dtype; computed in float32).
        boxes: ``[B, 5]`` from :func:`crop_boxes`.

    Returns:
        ``[B, C, S, S]`` float32 on the images' device, in the images' value range.

    Shapes:
        images ``[B, C, H, W]`` -> ``[B, C, H, W]``.
    """
    x = images.float()
    b = boxes.to(x.device, torch.float32)
    left, top, w, h, flip = b.unbind(1)
    sign = 1.0 - 2.0 * flip
    theta = torch.zeros(x.shape[0], 2, 3, device=x.device)
    theta[:, 0, 0] = w * sign              # output x in [-1, 1] -> input x inside the box
    theta[:, 0, 2] = 2 * left + w - 1      # box centre in normalized coordinates
    theta[:, 1, 1] = h
    theta[:, 1, 2] = 2 * top + h - 1
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
