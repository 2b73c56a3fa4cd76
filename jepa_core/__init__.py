"""jepa_core: a modality-agnostic JEPA pretraining engine with compiled kernels."""

__version__ = "0.1.0"
