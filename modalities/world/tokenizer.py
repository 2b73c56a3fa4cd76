"""Frames to one latent each: a small CNN for images, an MLP for state vectors."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from jepa_core.modality import Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout


def conv_net(channels_in: int, side: int, channels: list[int], dim: int) -> nn.Sequential:
    """Stride-2 3x3 convolutions (each halves the side), a 2-layer MLP head to ``dim`` and a
    BatchNorm (LeWorldModel's projector: latents start standardized, where SIGReg's
    gradient is informative; near zero it vanishes)."""
    layers: list[nn.Module] = []
    c = channels_in
    for out in channels:
        layers += [nn.Conv2d(c, out, 3, stride=2, padding=1), nn.GELU()]
        c, side = out, (side + 1) // 2
    layers += [nn.Flatten(), nn.Linear(c * side * side, 256), nn.GELU(), nn.Linear(256, dim),
               nn.BatchNorm1d(dim)]
    return nn.Sequential(*layers)


def mlp_net(width: int, hidden: int, dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                         nn.Linear(hidden, dim), nn.BatchNorm1d(dim))


class FrameTokenizer(Tokenizer):
    """A window ``{"obs": [B, W, *frame], "actions": [B, W, A]}`` to one token per frame.

    Images (``uint8 [H, W, C]``) are scaled to ``[-0.5, 0.5]`` and go through a small CNN;
    state vectors (``float [S]``) through an MLP. Each frame is encoded alone, so the same
    network encodes a single observation or a goal when planning (:meth:`encode_frames`).

    Args:
        frame_shape: ``(H, W, C)`` or ``(S,)``.
        action_width: ``A`` (``frame_skip`` x the env's action width).
        window: frames per sample.
        history: context frames (read by the world method).
        dim: latent width.
        encoder: ``cnn`` or ``mlp``.
        channels: CNN channels per stage; hidden: MLP width.

    Shapes:
        obs ``[B, W, *frame]``, actions ``[B, W, A]`` -> tokens ``[B, W, dim]``,
        conditions ``[B, W, A]``.
    """

    def __init__(self, frame_shape: tuple[int, ...], action_width: int, window: int, history: int,
                 dim: int, encoder: str, channels: list[int], hidden: int) -> None:
        super().__init__()
        self.frame_shape = tuple(frame_shape)
        self.layout = TokenLayout((window,))
        self.dim = dim
        self.condition_dim = action_width
        self.history = history
        self.kind = encoder
        if encoder == "cnn":
            if len(frame_shape) != 3:
                raise ValueError(f"options.encoder=cnn needs image frames [H, W, C], got {frame_shape}")
            self.net = conv_net(frame_shape[2], frame_shape[0], channels, dim)
        else:
            width = 1
            for s in frame_shape:
                width *= s
            self.net = mlp_net(width, hidden, dim)

    def encode_frames(self, frames: Tensor) -> Tensor:
        """``[N, *frame] -> [N, dim]``."""
        if tuple(frames.shape[1:]) != self.frame_shape:
            raise ValueError(f"frames must be [N, {', '.join(map(str, self.frame_shape))}], got "
                             f"{tuple(frames.shape)}")
        if self.kind == "cnn":
            x = frames.float().div(255.0).sub(0.5).permute(0, 3, 1, 2)
            return self.net(x)
        return self.net(frames.float().flatten(1))

    def forward(self, batch: dict) -> TokenBatch:
        obs, actions = batch["obs"], batch["actions"]
        b, w = obs.shape[:2]
        z = self.encode_frames(obs.reshape(b * w, *obs.shape[2:])).view(b, w, self.dim)
        return TokenBatch(z, self.layout, conditions=actions.float())
