"""The bad images a command skipped (``options.on_bad_image=skip``), for the count at its end."""

from __future__ import annotations

import warnings


class SkipLog:
    """Bad images left out while listing and replaced by grey while decoding, by name.

    Decoding runs in DataLoader workers, which cannot report back; each skipped sample
    carries its message in the batch (``batch["skipped"]``) and the tokenizer, in the
    main process, records it here: a name is warned about once and counted once, however
    many epochs (or encoders: the EMA teacher shares the log) see it. Under ``torchrun``
    each rank counts the samples it read.

    Examples:
        >>> log = SkipLog()
        >>> log.listed(["a.png: empty file"])
        >>> log.summary()
        'skipped 1 bad image(s) (options.on_bad_image=skip): 1 left out while listing: a.png: empty file'
    """

    def __init__(self) -> None:
        self.at_listing: list[str] = []
        self.at_decoding: dict[str, None] = {}  # insertion-ordered set

    def __deepcopy__(self, memo: dict) -> "SkipLog":  # a copied tokenizer (EMA teacher) shares it
        return self

    def listed(self, messages: list[str]) -> None:
        """Files the listing left out (``list_items`` has warned about them already)."""
        self.at_listing += [m for m in messages if m not in self.at_listing]

    def decoded(self, messages: list[str]) -> None:
        """Images of a batch that failed to decode and were replaced by grey; warns once each."""
        for m in messages:
            if m and m not in self.at_decoding:
                self.at_decoding[m] = None
                warnings.warn(f"skipped {m}; a grey image stands in for it", stacklevel=3)

    @property
    def count(self) -> int:
        return len(self.at_listing) + len(self.at_decoding)

    def summary(self, shown: int = 3) -> str | None:
        """One line with the count and the first few, or None when nothing was skipped."""
        if not self.count:
            return None
        parts = []
        for what, names in (("left out while listing", self.at_listing),
                            ("replaced by grey when they failed to decode", list(self.at_decoding))):
            if names:
                more = " ..." if len(names) > shown else ""
                parts.append(f"{len(names)} {what}: " + "; ".join(names[:shown]) + more)
        return f"skipped {self.count} bad image(s) (options.on_bad_image=skip): " + ", ".join(parts)
