"""Which frames a sample holds (windows, padding, looping) and V-JEPA's random temporal crop.

A file's frames are first subsampled by ``frame_step`` (its *sampled* frames). A sample
is a window of ``crop_window`` sampled frames (``clips_per_video`` windows evenly spaced
over the file); a file too short for ``frames_per_clip`` is looped or padded, never
dropped. In training the tokenizer crops ``frames_per_clip`` frames out of the window at
a start drawn from Philox keyed by ``(seed, step, sample id)``, so a resumed run crops
exactly as the uninterrupted one; embedding and probing take the centre crop.
"""

from __future__ import annotations

import torch
from torch import Tensor

from jepa_core.ops.masking.philox import below, philox4x32, sample_counters, seed_key

#: Philox stream tag of the temporal crop (the maskers use 0-3, the image crop 0x21).
TAG_TEMPORAL_CROP = 0x22


def sampled_length(num_frames: int, frame_step: int) -> int:
    """Sampled frames of a file of ``num_frames`` frames (frames ``0, s, 2s, ...``).

    Examples:
        >>> sampled_length(10, 4)
        3
    """
    return -(-num_frames // frame_step)


def window_starts(length: int, window: int, clips: int) -> list[int]:
    """Start (in sampled frames) of each of ``clips`` windows, centres evenly spaced.

    A file no longer than one window gives one window at 0.

    Examples:
        >>> window_starts(100, 20, 1), window_starts(100, 20, 3), window_starts(12, 20, 3)
        ([40], [13, 40, 66], [0])
    """
    if length <= window:
        return [0]
    span = length - window
    starts = [int(span * (k + 0.5) / clips) for k in range(clips)]
    return sorted(set(starts))


def window_frames(length: int, start: int, window: int, frames_per_clip: int,
                  short: str) -> tuple[list[int], int]:
    """Sampled frame indices of one window, padded to ``window`` entries, and the real count.

    ``short='loop'`` plays a clip shorter than ``frames_per_clip`` again from its start
    (all ``frames_per_clip`` frames then count as real); ``pad`` repeats its last frame,
    and only the real ones count. The entries past the real ones repeat the last one.

    Examples:
        >>> window_frames(3, 0, 6, 4, "loop")
        ([0, 1, 2, 0, 0, 0], 4)
        >>> window_frames(3, 0, 6, 4, "pad")
        ([0, 1, 2, 2, 2, 2], 3)
    """
    idx = list(range(start, min(start + window, length)))
    if len(idx) < frames_per_clip and short == "loop":
        idx = [idx[j % len(idx)] for j in range(frames_per_clip)]
    real = len(idx)
    return idx + [idx[-1]] * (window - real), real


def crop_starts(frames: Tensor, frames_per_clip: int, sample_ids: Tensor | None = None,
                step: int = 0, seed: int = 0) -> Tensor:
    """Where each sample's ``frames_per_clip`` crop starts in its window.

    Args:
        frames: ``[B]`` real frames per sample.
        sample_ids: ``[B]`` global ids: a random start in ``[0, frames - F]`` from Philox
            keyed by ``(seed, step, id)``; ``None``: the centre crop.

    Examples:
        >>> crop_starts(torch.tensor([8, 12, 16]), 8).tolist()
        [0, 2, 4]
        >>> a = crop_starts(torch.tensor([16, 16]), 8, torch.tensor([5, 9]), step=3)
        >>> torch.equal(a[1:], crop_starts(torch.tensor([16]), 8, torch.tensor([9]), step=3))
        True
    """
    room = (frames.to(torch.int64) - frames_per_clip).clamp(min=0)
    if sample_ids is None:
        return room // 2
    c1, c2, c3 = sample_counters(sample_ids.to(frames.device, torch.int64), step, TAG_TEMPORAL_CROP)
    zero = torch.zeros_like(c1)
    word = philox4x32(zero, c1, c2, c3, *seed_key(seed))[:, 0]
    return below(word, room + 1)


def crop_clips(video: Tensor, frames: Tensor, starts: Tensor,
               frames_per_clip: int) -> tuple[Tensor, Tensor]:
    """``frames_per_clip`` frames of each clip from ``starts``, and the real frames among them.

    A window shorter than ``frames_per_clip`` (a one-frame image, say) is extended by
    repeating its last frame.

    Shapes:
        video ``[B, W, ...]``, frames ``[B]``, starts ``[B]`` -> ``[B, F, ...]``, ``[B]``.
    """
    b, w = video.shape[:2]
    offsets = torch.arange(frames_per_clip, device=video.device)
    idx = (starts.to(video.device)[:, None] + offsets[None]).clamp(max=w - 1)
    last = (frames.to(video.device) - 1).clamp(min=0)[:, None]
    idx = torch.minimum(idx, last)
    gather = idx.view(b, frames_per_clip, *([1] * (video.dim() - 2))).expand(-1, -1, *video.shape[2:])
    real = (frames.to(video.device) - starts.to(video.device)).clamp(min=1, max=frames_per_clip)
    return torch.gather(video, 1, gather), real
