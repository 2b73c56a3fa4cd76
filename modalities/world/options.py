"""The ``options`` config section of the world plugin: windows, frame skip, encoder."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WorldOptions:
    """How trajectories are cut into training windows and how frames are encoded.

    Args:
        history: context frames the predictor sees before the rollout starts.
        horizon: frames predicted open-loop in the multi-step rollout loss.
        frame_skip: env steps per frame; the actions in between are concatenated
            (action chunking), so the model's action width is ``frame_skip * A``.
        stride: env steps between window starts within an episode.
        encoder: ``auto`` (a CNN for images, an MLP for state vectors), ``cnn`` or ``mlp``.
        channels: CNN channels per stage (each stage halves the image side).
        hidden: MLP width (state vectors).
    """

    history: int = 3
    horizon: int = 8
    frame_skip: int = 2
    stride: int = 2
    encoder: str = "auto"
    channels: list[int] = field(default_factory=lambda: [16, 32, 32])
    hidden: int = 128

    @property
    def window(self) -> int:
        return self.history + self.horizon

    def validate(self) -> None:
        """Raise ``ValueError`` for settings that cannot work."""
        if self.history < 1 or self.horizon < 1:
            raise ValueError(f"options.history and options.horizon must be >= 1, got "
                             f"{self.history} and {self.horizon}")
        if self.frame_skip < 1 or self.stride < 1:
            raise ValueError(f"options.frame_skip and options.stride must be >= 1, got "
                             f"{self.frame_skip} and {self.stride}")
        if self.encoder not in ("auto", "cnn", "mlp"):
            raise ValueError(f"options.encoder must be auto, cnn or mlp, got {self.encoder!r}")
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"options.channels needs positive channel counts, got {self.channels}")
