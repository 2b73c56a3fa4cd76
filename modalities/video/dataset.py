"""A lazy clip dataset: clips listed up front, frames decoded on access (in DataLoader workers)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .options import VideoOptions
from .readers import BadClipError, ClipDecoder, ClipItem


class VideoDataset(Dataset):
    """Clip windows: ``{"video": uint8 [W, 3, S, S], "frames": int, "error": str}``.

    ``W`` is ``options.crop_window`` (sampled frames, the last real one repeated past
    ``frames``, the number of real ones). A clip that cannot be decoded is not raised in
    the worker: the item carries the message in ``error`` and the tokenizer raises it as
    one :class:`~jepa_core.modality.DataError` (as the image plugin does).

    Args:
        items: the samples, from :func:`modalities.video.readers.list_clips`.
        opts: the plugin options.
        root: the folder (or file) the items were listed from.
    """

    def __init__(self, items: list[ClipItem], opts: VideoOptions, root: str) -> None:
        self.items = items
        self.opts = opts
        self.root = root
        self.decode = ClipDecoder(opts)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        try:
            (clip, frames), error = self.decode(self.items[i]), ""
        except BadClipError as e:
            (clip, frames), error = (self.decode.blank(), 1), str(e)
        return {"video": torch.from_numpy(clip).permute(0, 3, 1, 2).contiguous(),
                "frames": frames, "error": error}

    def subset(self, indices: list[int]) -> "VideoDataset":
        """The same dataset restricted to ``indices`` (in that order)."""
        return VideoDataset([self.items[i] for i in indices], self.opts, self.root)
