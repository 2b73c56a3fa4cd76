"""The ``options`` config section of the ui plugin: how events are read and embedded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class UIOptions:
    """How UI traces are read and turned into event tokens.

    Args:
        max_events: the longest session a run accepts; 0 fits it to the pretraining data.
            A longer session is an error (sessions are never truncated).
        text_buckets: hash buckets of the character n-gram text embedding.
        ngram_sizes: the character n-gram lengths hashed from each text (with ``^``/``$``
            marking the start and end of every word).
        max_text_chars: characters of each text (element text, typed text) that are
            hashed; the rest of a very long text is not read.
        xy_scale: screen coordinates in ``[0, 1]`` are multiplied by this for the
            position embedding (coordinates are in units of about one token spacing).
        max_roles: element roles kept in the fitted vocabulary (most frequent first);
            rarer or unseen roles share one id.
        text_tokenizer: a local ``transformers`` tokenizer folder (read offline, never
            downloaded); its token ids of each text are embedded by a learned table
            instead of the hashed n-grams (``text_buckets``/``ngram_sizes`` unused then).
            A relative path is taken from the working directory; the run stores it
            resolved.
        screens: embed the screenshots of traces that have them (``screens``): each is
            resized to ``screen_size`` pixels a side and encoded by a small ViT built
            from the image plugin's patch tokenizer; its embedding is added to its
            event's token.
        screen_size: side in pixels of the resized screenshots.
        screen_patch: pixels per patch side of the screenshot encoder; divides
            ``screen_size``.
        screen_depth: transformer blocks of the screenshot encoder over its patches.
        screen_heads: attention heads of those blocks; divides ``model.dim``.
        elapsed: give every event the share of its session elapsed before it (0 at the
            first event, 1 at the last) as one more feature (0 when off): where in the session
            an event lies, which the intent (the task a session ends with) depends on.
    """

    max_events: int = 0
    text_buckets: int = 2048
    ngram_sizes: list[int] | None = None
    max_text_chars: int = 64
    xy_scale: float = 8.0
    max_roles: int = 64
    elapsed: bool = True
    screens: bool = True
    screen_size: int = 16
    screen_patch: int = 4
    screen_depth: int = 1
    screen_heads: int = 4
    text_tokenizer: str | None = None

    def __post_init__(self) -> None:
        if self.ngram_sizes is None:
            self.ngram_sizes = [2, 3]

    def validate(self) -> None:
        """Raise ``ValueError`` for settings that cannot work."""
        if self.max_events < 0:
            raise ValueError(f"options.max_events must be >= 0, got {self.max_events}")
        if self.text_buckets < 2:
            raise ValueError(f"options.text_buckets must be >= 2, got {self.text_buckets}")
        if not self.ngram_sizes or any(int(n) < 1 for n in self.ngram_sizes):
            raise ValueError(f"options.ngram_sizes needs sizes >= 1, got {self.ngram_sizes}")
        if self.max_text_chars < 1:
            raise ValueError(f"options.max_text_chars must be >= 1, got {self.max_text_chars}")
        if not self.xy_scale > 0:
            raise ValueError(f"options.xy_scale must be > 0, got {self.xy_scale}")
        if self.screen_size < 1 or self.screen_patch < 1 or self.screen_size % self.screen_patch:
            raise ValueError(f"options.screen_patch={self.screen_patch} must divide "
                             f"options.screen_size={self.screen_size} (both >= 1)")
        if self.screen_depth < 0 or self.screen_heads < 1:
            raise ValueError(f"options.screen_depth must be >= 0 and options.screen_heads >= 1, "
                             f"got {self.screen_depth} and {self.screen_heads}")
        if self.text_tokenizer is not None and not str(self.text_tokenizer).strip():
            raise ValueError("options.text_tokenizer must name a tokenizer folder (or be null)")
        if self.max_roles < 1:
            raise ValueError(f"options.max_roles must be >= 1, got {self.max_roles}")
