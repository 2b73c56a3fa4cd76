"""A lazy audio dataset: clips listed up front, samples decoded on access (in DataLoader workers)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .options import AudioOptions
from .readers import AudioItem, BadAudioError, Decoder


class AudioDataset(Dataset):
    """Clips as ``{"audio": float32 [clip_samples], "length": int, "error": str}``.

    Holds only the clip list; each ``__getitem__`` decodes one clip (reading only its
    frames), so memory does not grow with the folder and decoding and resampling run in
    the loader's ``data.num_workers`` processes. The log-mel is computed later, in batch,
    by the tokenizer on the training device.

    A clip that cannot be decoded is not raised in the worker (where the DataLoader would
    wrap the message in a traceback): the item carries it in ``error`` and the tokenizer
    raises it as one clear :class:`~jepa_core.modality.DataError`.

    Args:
        items: the clips, from :func:`modalities.audio.readers.list_items`.
        opts: the plugin options.
        root: the folder (or file) the items were listed from.
    """

    def __init__(self, items: list[AudioItem], opts: AudioOptions, root: str) -> None:
        self.items = items
        self.opts = opts
        self.root = root
        self.decode = Decoder(opts)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        try:
            (wave, length), error = self.decode(self.items[i]), ""
        except BadAudioError as e:
            (wave, length), error = self.decode.blank(), str(e)
        return {"audio": torch.from_numpy(wave), "length": length, "error": error}

    def subset(self, indices: list[int]) -> "AudioDataset":
        """The same dataset restricted to ``indices`` (in that order)."""
        return AudioDataset([self.items[i] for i in indices], self.opts, self.root)
