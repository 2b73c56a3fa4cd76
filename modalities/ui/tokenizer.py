"""Event tokens without a grid: one token per event, placed by its time and screen point."""

from __future__ import annotations

import torch
from torch import nn

from jepa_core.modality import Tokenizer
from jepa_core.tokens import TokenBatch

from .dataset import FEATURES
from .options import UIOptions
from .traces import ACTIONS


class EventTokenizer(Tokenizer):
    """Sum of an action-type embedding, an element-role embedding, a hashed character
    n-gram embedding of the texts (element text, typed text, element id) and a linear
    map of the continuous features (point, drag, box size, log time gap).

    There is no token grid (``layout = None``): every token carries its coordinates
    ``(t / time_scale, x * xy_scale, y * xy_scale)`` in ``TokenBatch.coords``, from which
    the encoder and predictor compute sin-cos positions. Sessions of different lengths
    are padded; ``valid`` marks the real events.

    With ``screens``, each event's screenshot (``batch["screen"]``, resized to
    ``options.screen_size``) goes through a screen encoder built from the image plugin's
    patch tokenizer and a small ViT (:class:`~modalities.ui.screens.ScreenEncoder`); its
    screen embedding is added to the event's token, so a masked event hides its
    screenshot too. Events without a screenshot (``has_screen`` false) get nothing added.

    With ``text_vocab`` (``options.text_tokenizer``), ``grams`` holds the token ids of a
    user-supplied tokenizer (plus one; 0 is padding) instead of n-gram buckets, and the
    text embedding is a learned table over that vocabulary, averaged over a text's tokens.

    Args:
        opts: the plugin options (text buckets, screenshot size).
        num_roles: roles in the fitted vocabulary (ids ``1..num_roles``; 0 none/unseen).
        dim: the token width (``model.dim``).
        screens: embed screenshots (the run's traces have them).
        text_vocab: the vocabulary size of ``options.text_tokenizer`` (0: hashed n-grams).

    Shapes:
        a batch of :func:`modalities.ui.dataset.collate` -> tokens ``[B, N, dim]``,
        coords ``[B, N, 3]``.

    Examples:
        >>> from modalities.ui.dataset import collate
        >>> tok = EventTokenizer(UIOptions(text_buckets=16), num_roles=2, dim=8)
        >>> one = {"action": torch.tensor([0, 2]), "role": torch.tensor([1, 0]),
        ...        "feats": torch.zeros(2, 9), "coords": torch.zeros(2, 3),
        ...        "grams": torch.tensor([[3, 4], [5, 0]])}
        >>> tb = tok(collate([one, {k: v[:1] for k, v in one.items()}]))
        >>> tb.tokens.shape, tb.valid.tolist()
        (torch.Size([2, 2, 8]), [[True, True], [True, False]])
    """

    def __init__(self, opts: UIOptions, num_roles: int, dim: int, screens: bool = False,
                 text_vocab: int = 0) -> None:
        super().__init__()
        self.layout = None
        self.coord_dim = 3
        self.dim = dim
        self.action = nn.Embedding(len(ACTIONS), dim)
        self.role = nn.Embedding(num_roles + 1, dim)
        rows = text_vocab + 1 if text_vocab else opts.text_buckets
        self.text = nn.EmbeddingBag(rows, dim, mode="mean", padding_idx=0)
        self.cont = nn.Linear(len(FEATURES), dim)
        self.norm = nn.LayerNorm(dim)
        self.screen = None
        if screens:
            from .screens import ScreenEncoder

            self.screen = ScreenEncoder(opts.screen_size, opts.screen_patch, dim,
                                        opts.screen_depth, opts.screen_heads)

    def forward(self, batch: dict) -> TokenBatch:
        valid = batch["valid"]
        b, n = valid.shape
        grams = batch["grams"]
        text = self.text(grams.reshape(b * n, grams.shape[-1])).reshape(b, n, self.dim)
        x = (self.action(batch["action"]) + self.role(batch["role"]) + text
             + self.cont(batch["feats"].to(text.dtype)))
        if self.screen is not None:
            has = batch["has_screen"] & valid
            screen = torch.zeros_like(x)
            if bool(has.any()):  # encode the real screenshots only
                screen[has] = self.screen(batch["screen"][has]).to(x.dtype)
            x = x + screen
        tokens = self.norm(x) * valid[..., None]
        return TokenBatch(tokens, None, valid=valid, coords=batch["coords"].float())
