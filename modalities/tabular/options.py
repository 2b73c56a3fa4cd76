"""The tabular plugin's own ``options:`` config section."""

from __future__ import annotations

from dataclasses import dataclass, field

#: How a numeric value becomes a token (``options.numeric_embedding``).
NUMERIC_EMBEDDINGS = ("linear", "periodic", "linear_periodic", "ple", "linear_ple", "ple_relu")
#: The numeric embeddings that need bin edges fitted with the schema.
PLE_EMBEDDINGS = ("ple", "linear_ple", "ple_relu")


@dataclass
class TabularOptions:
    """How columns are read, typed and encoded (the ``options:`` section of a tabular run).

    Args:
        ignore_columns: columns pretraining never sees (``--ignore-columns a,b``; 0.1
            configs spelled it ``data.ignore_columns``); acts when the schema is fitted.
        numeric_columns: columns forced numeric, whatever inference says.
        categorical_columns: columns forced categorical, whatever inference says.
        max_categorical_cardinality: an integer column (or label) with at most this many
            distinct values is categorical.
        min_frequency: a category seen fewer times than this when fitting maps to the
            unknown bucket.
        max_vocab_size: at most this many categories per column are kept (the most
            frequent); the rest map to the unknown bucket.
        clip: standardized numerics are clipped to ``[-clip, clip]``.
        encoding: text encoding of CSV files.
        delimiter: CSV field separator; ``None`` (auto) keeps ``,`` (``\\t`` for ``.tsv``)
            when it splits the first rows evenly, else takes the one of ``;``, ``\\t``,
            ``|`` that does (``auto`` means the same; ``tab`` or ``\\t`` is a tab). With
            ``;``, numbers written with a decimal comma (``3,5``) are read as numbers.
        na_values: extra strings that mean "missing" (e.g. ``"?"``), on top of pandas'
            defaults (empty, ``NA``, ``NaN``, ``null``...).
        numeric_embedding: how a numeric value becomes a token: ``linear`` (``x * W + b``)
            or ``periodic`` (sin/cos of learned frequencies, then a linear map and ReLU;
            see :class:`~modalities.tabular.tokenizer.TabularTokenizer`), or
            ``linear_periodic`` (the sum of both), or ``ple`` (piecewise-linear encoding
            on quantile bins, then a linear map; see :mod:`~modalities.tabular.ple`), or
            ``linear_ple`` (the sum of ``linear`` and ``ple``), or ``ple_relu`` (``ple``
            followed by a ReLU).
        periodic_frequencies: frequencies per numeric feature for the periodic embeddings.
        periodic_sigma: the spread the periodic frequencies are drawn from, in units of
            the standardized value (larger: finer detail at the start).
        ple_bins: the most quantile bins per numeric feature for the ``ple`` embeddings
            (their edges are fitted on the pretraining rows and saved with the schema).

    Examples:
        >>> TabularOptions(categorical_columns=["zip"]).max_categorical_cardinality
        20
    """

    ignore_columns: list[str] = field(default_factory=list)
    numeric_columns: list[str] = field(default_factory=list)
    categorical_columns: list[str] = field(default_factory=list)
    max_categorical_cardinality: int = 20
    min_frequency: int = 1
    max_vocab_size: int = 1000
    clip: float = 5.0
    encoding: str = "utf-8"
    delimiter: str | None = None
    na_values: list[str] = field(default_factory=list)
    numeric_embedding: str = "linear"
    periodic_frequencies: int = 16
    periodic_sigma: float = 1.0
    ple_bins: int = 16

    def validate(self) -> None:
        """Raises ``ValueError`` naming the option that is out of range."""
        if self.numeric_embedding not in NUMERIC_EMBEDDINGS:
            raise ValueError(f"options.numeric_embedding must be one of {list(NUMERIC_EMBEDDINGS)}, "
                             f"got {self.numeric_embedding!r}")
        if self.periodic_frequencies < 1:
            raise ValueError(f"options.periodic_frequencies must be at least 1, got {self.periodic_frequencies}")
        if not self.periodic_sigma > 0:
            raise ValueError(f"options.periodic_sigma must be positive, got {self.periodic_sigma}")
        if self.ple_bins < 1:
            raise ValueError(f"options.ple_bins must be at least 1, got {self.ple_bins}")
