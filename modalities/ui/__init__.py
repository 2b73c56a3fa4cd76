"""UI traces (UI-JEPA): recorded user sessions as one token per event, intent from the embedding.

A reader and validator for JSON session traces (:mod:`.traces`), a tokenizer without a
grid (action, element role, hashed character n-grams of the texts or a local tokenizer's
ids, continuous time and screen coordinates, and a screenshot embedding from a small ViT
built with the image plugin's pieces, :mod:`.screens`), span and future-event maskers
(:mod:`.masking`), an order-keeping pooling (:mod:`.pooling`), the demo's session
simulator with optional screenshots (:mod:`.render`), probes on any session field, and ``jepa decode`` (:mod:`.decode`), which
trains a projector from frozen trace embeddings into a local causal language model to
generate the intent text.

The public names are imported on first use, so ``jepa --help`` (which reads the parser
of :mod:`.decode`) loads no torch.
"""

from __future__ import annotations

import importlib

_PUBLIC = {"ACTIONS": "traces", "read_sessions": "traces", "EventSpanMasker": "masking",
           "FutureEventMasker": "masking", "UIOptions": "options", "UIModality": "plugin",
           "EventTokenizer": "tokenizer", "ScreenEncoder": "screens", "SegmentPooling": "pooling",
           "write_demo": "demo"}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
