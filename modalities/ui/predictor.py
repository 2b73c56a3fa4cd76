"""``ui_time`` predictor: the masked events' times are given, their screen points are not."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from jepa_core.models.predictor import MaskedPredictorConfig, Predictor


@dataclass
class EventTimePredictorConfig(MaskedPredictorConfig):
    """``predictor: {name: ui_time, dim: 64, depth: 2, heads: 4}``."""

    name: str = "ui_time"


class EventTimePredictor(Predictor):
    """The ``masked`` predictor whose mask tokens carry only the target events' times.

    An event token's coordinates are ``(t, x, y)``. Given a masked tap's screen point, the
    predictor can tell which widget was touched from the point and the app alone, so the
    context need not say what the user was doing. Here the target queries get the
    position of ``(t, 0, 0)``: the predictor knows when each masked event happened, not
    where, and must infer it from the context. Context tokens keep their full coordinates.

    Shapes:
        as :meth:`Predictor.forward`; ``coords`` ``[B, N, 3]`` (time first).
    """

    config_class = EventTimePredictorConfig

    def forward(self, z_ctx: Tensor, ctx_idx: Tensor, ctx_valid: Tensor, tgt_idx: Tensor,
                tgt_valid: Tensor, cond: Tensor | None = None, coords: Tensor | None = None) -> Tensor:
        if coords is None:
            raise ValueError("the ui_time predictor places tokens by their coords (t, x, y)")
        b = tgt_idx.shape[0]
        hits = coords.new_zeros(coords.shape[:2]).scatter_add_(
            1, tgt_idx.reshape(b, -1), tgt_valid.reshape(b, -1).to(coords.dtype))
        hidden = coords.clone()
        hidden[..., 1:] = hidden[..., 1:] * (hits == 0)[..., None].to(coords.dtype)  # targets: (t, 0, 0)
        return super().forward(z_ctx, ctx_idx, ctx_valid, tgt_idx, tgt_valid, cond, hidden)
