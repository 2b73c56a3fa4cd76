"""UI traces (UI-JEPA): recorded user sessions as one token per event, intent from the embedding.

A reader and validator for JSON session traces (:mod:`.traces`), a tokenizer without a
grid (action, element role, hashed character n-grams of the texts, continuous time and
screen coordinates), span and future-event maskers (:mod:`.masking`), the demo's session
simulator, probes on any session field, and ``jepa decode`` (:mod:`.decode`), which
trains a projector from frozen trace embeddings into a local causal language model to
generate the intent text.
"""

from .masking import EventSpanMasker, FutureEventMasker
from .options import UIOptions
from .plugin import UIModality
from .tokenizer import EventTokenizer
from .traces import ACTIONS, read_sessions

__all__ = ["ACTIONS", "EventSpanMasker", "EventTokenizer", "FutureEventMasker", "UIModality",
           "UIOptions", "read_sessions"]
