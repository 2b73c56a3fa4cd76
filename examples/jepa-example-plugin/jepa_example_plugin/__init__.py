"""An out-of-tree jepa-core plugin: event sequences, a span masker and a latent loss."""

from .loss import UnitSphereL2
from .masker import SpanConfig, SpanMasker, span_masks
from .modality import EventSequences, SequenceOptions, SequenceTokenizer, write_demo

__all__ = ["EventSequences", "SequenceOptions", "SequenceTokenizer", "SpanConfig", "SpanMasker",
           "UnitSphereL2", "span_masks", "write_demo"]
