"""Tabular modality (T-JEPA): CSV/Parquet tables tokenized one feature per token."""

from .dataset import TabularDataset
from .errors import DataWarning
from .options import TabularOptions
from .plugin import TabularModality
from .tokenizer import TabularTokenizer

__all__ = ["DataWarning", "TabularDataset", "TabularModality", "TabularOptions",
           "TabularTokenizer"]
