"""The action-conditioned predictor of a latent world model (V-JEPA 2-AC, LeWorldModel).

One latent per frame goes in, the next frame's latent comes out. Attention is
block-causal over time: the prediction at frame ``t`` sees frames ``<= t`` and the
actions taken there, never a later frame or action. Each frame's action (an action
chunk, with frame skip) is embedded and modulates every block by AdaLN-zero (scale,
shift and a zero-initialized gate, as in DiT), so at initialization the predictor
ignores actions and learns to use them.

With ``P`` frames per sequence the predictor is trained on sequences of up to
``max_frames`` frames; :meth:`ActionPredictor.rollout` keeps the last ``max_frames`` of a
longer open-loop rollout, so positions never leave the range trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..config import ComponentConfig
from .predictor import Predictor
from .transformer import Transformer, init_weights


@dataclass
class ActionPredictorConfig(ComponentConfig):
    """Sizes of the ``action`` predictor.

    Args:
        dim: transformer width.
        depth: blocks.
        heads: attention heads (must divide ``dim``).
        mlp_ratio: MLP width over ``dim``.
        action_dim: width of the action embedding that conditions the blocks.
    """

    dim: int = 64
    depth: int = 2
    heads: int = 4
    mlp_ratio: float = 4.0
    action_dim: int = 32


def causal_mask(frames: int, device: torch.device | None = None) -> Tensor:
    """``[T, T]`` bool, ``True`` where query frame ``i`` may attend to key frame ``j <= i``.

    Examples:
        >>> causal_mask(3).int().tolist()
        [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    return torch.ones(frames, frames, dtype=torch.bool, device=device).tril()


class ActionPredictor(Predictor):
    """Predicts ``z[t + 1]`` from ``z[<= t]`` and ``a[<= t]``, for every ``t`` at once.

    Registered as predictor ``action`` (a :class:`~jepa_core.models.predictor.Predictor`
    by kind, built by the ``world`` method rather than by the masked method).

    Args:
        latent_dim: width ``D`` of the frame latents (in and out).
        action_width: width ``A`` of one frame's action (chunk).
        max_frames: the longest sequence (positions are learned for this many).
        cfg: sizes.

    Shapes:
        z ``[B, T, D]``, actions ``[B, T, A]`` -> ``[B, T, D]`` (row ``t``: the
        prediction of frame ``t + 1``).

    Examples:
        >>> p = ActionPredictor(8, 2, 4, ActionPredictorConfig(dim=16, heads=2, depth=1))
        >>> p(torch.zeros(3, 4, 8), torch.zeros(3, 4, 2)).shape
        torch.Size([3, 4, 8])
    """

    config_class = ActionPredictorConfig

    def __init__(self, latent_dim: int, action_width: int, max_frames: int,
                 cfg: ActionPredictorConfig | None = None) -> None:
        nn.Module.__init__(self)  # not the masked predictor's layout-based init
        cfg = cfg or ActionPredictorConfig()
        if cfg.dim % cfg.heads:
            raise ValueError(f"predictor dim {cfg.dim} does not split into {cfg.heads} heads")
        self.latent_dim, self.action_width, self.max_frames = latent_dim, action_width, max_frames
        self.dim = cfg.dim
        self.embed = nn.Linear(latent_dim, cfg.dim)
        self.action_embed = nn.Sequential(nn.Linear(action_width, cfg.action_dim), nn.SiLU(),
                                          nn.Linear(cfg.action_dim, cfg.action_dim))
        self.pos = nn.Parameter(torch.zeros(1, max_frames, cfg.dim))
        self.transformer = Transformer(cfg.dim, cfg.depth, cfg.heads, cfg.mlp_ratio, 0.0, cfg.action_dim)
        self.head = nn.Linear(cfg.dim, latent_dim)
        init_weights(self)
        nn.init.trunc_normal_(self.pos, std=0.02)

    def forward(self, z: Tensor, actions: Tensor) -> Tensor:  # type: ignore[override]
        b, t, d = z.shape
        if t > self.max_frames:
            raise ValueError(f"{t} frames exceed the predictor's max_frames={self.max_frames}")
        if actions.shape != (b, t, self.action_width):
            raise ValueError(f"actions must be [B={b}, T={t}, A={self.action_width}], got "
                             f"{tuple(actions.shape)}")
        x = self.embed(z) + self.pos[:, :t].to(z.dtype)
        cond = self.action_embed(actions.to(z.dtype))
        mask = causal_mask(t, z.device).expand(b, t, t)
        return self.head(self.transformer(x, mask, cond))

    def rollout(self, z_history: Tensor, actions: Tensor, keep_grad: bool = True) -> Tensor:
        """Open-loop: predict one frame per action after the history, feeding predictions back.

        ``actions[:, :h]`` are the actions taken at the ``h`` history frames (the last of
        them leads to the first predicted frame); ``actions[:, h:]`` those taken at the
        predicted frames. Only the last ``max_frames`` frames are fed back.

        Shapes:
            z_history ``[B, h, D]``, actions ``[B, h + k - 1, A]`` -> ``[B, k, D]``.
        """
        frames = [z_history[:, i] for i in range(z_history.shape[1])]
        h = len(frames)
        steps = actions.shape[1] - h + 1
        out = []
        for k in range(steps):
            ctx = torch.stack(frames[-self.max_frames:], dim=1)
            lo = h + k - ctx.shape[1]
            nxt = self(ctx, actions[:, lo:h + k])[:, -1]
            out.append(nxt)
            frames.append(nxt if keep_grad else nxt.detach())
        return torch.stack(out, dim=1)
