"""A lazy image dataset: file names up front, pixels decoded on access (in DataLoader workers)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .options import ImageOptions
from .readers import BadImageError, Decoder, ImageItem


class ImageDataset(Dataset):
    """Images resized to ``options.image_size``: ``{"image": uint8 [3, S, S], "error": str,
    "skipped": str}``.

    Holds only the item list; each ``__getitem__`` opens and decodes one file, so memory
    does not grow with the folder and decoding runs in parallel across the loader's
    ``data.num_workers`` processes.

    A file that cannot be decoded (with ``options.on_bad_image=stop``; listing catches
    most bad files before) is not raised in the worker, where the DataLoader would wrap
    the message in a traceback: the item carries it in ``error`` (``""`` when fine) and
    the tokenizer raises it as one clear :class:`~jepa_core.modality.DataError`. With
    ``options.on_bad_image=skip`` a grey image stands in and ``skipped`` carries the
    message instead, for the tokenizer to warn about and count
    (:class:`~modalities.image.skips.SkipLog`).

    Args:
        items: the samples, from :func:`modalities.image.readers.list_items`.
        opts: the plugin options (``image_size``, ``on_bad_image``).
        root: the folder (or file) the items were listed from, for relative names.
    """

    def __init__(self, items: list[ImageItem], opts: ImageOptions, root: str) -> None:
        self.items = items
        self.opts = opts
        self.root = root
        self.decode = Decoder(opts.image_size, opts.on_bad_image)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        error = skipped = ""
        try:
            rgb = self.decode.decode(self.items[i])
        except BadImageError as e:
            rgb = self.decode.blank()
            if self.opts.on_bad_image == "stop":
                error = str(e)
            else:
                skipped = str(e)
        return {"image": torch.from_numpy(rgb).permute(2, 0, 1).contiguous(), "error": error,
                "skipped": skipped}

    def subset(self, indices: list[int]) -> "ImageDataset":
        """The same dataset restricted to ``indices`` (in that order)."""
        return ImageDataset([self.items[i] for i in indices], self.opts, self.root)
