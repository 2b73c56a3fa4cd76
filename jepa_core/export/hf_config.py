"""``JepaConfig``: a run's config and fitted modality state as a transformers config.

Its own module, importing only transformers' config base, so that registering it with
``AutoConfig`` (:mod:`.autoregister`) loads no model code.
"""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

MODEL_TYPE = "jepa"


class JepaConfig(PretrainedConfig):
    """A run's config and fitted modality state, as a transformers config.

    Args:
        modality: the plugin's name (``tabular``, ``lidar``, ...).
        run_config: the run's ``config.yaml`` as a mapping.
        modality_state: the plugin's fitted state (``modality_state.json``).
        layer_norm_eps: the encoder's LayerNorm epsilon when it is not PyTorch's default
            (a run started from an I-JEPA checkpoint, ``model.init_hf``, has that one's).
    """

    model_type = MODEL_TYPE

    def __init__(self, modality: str = "tabular", run_config: dict | None = None,
                 modality_state: dict | None = None, layer_norm_eps: float | None = None,
                 **kwargs: Any) -> None:
        self.modality = modality
        self.layer_norm_eps = layer_norm_eps
        self.run_config = dict(run_config or {"modality": modality})
        self.modality_state = dict(modality_state or {})
        super().__init__(**kwargs)
