"""Any run as a transformers model of this package: ``JepaConfig`` + ``JepaModel`` (model_type ``jepa``).

The model is the run's target encoder (what ``jepa embed`` uses), rebuilt from the run's
config and the modality's fitted state, both kept in ``config.json``; the weights are
``model.safetensors``. ``import jepa_core`` registers both classes with transformers'
``AutoConfig``/``AutoModel`` (see :mod:`.autoregister`), so
``transformers.AutoModel.from_pretrained(DIR)`` loads an export. Its inputs are what
:class:`~jepa_core.export.processor.JepaProcessor` makes of raw data (a DataFrame, a
file, a folder): ``model(**processor(data))``.

Why no ``trust_remote_code`` / ``auto_map`` for people without this package: the model
is the encoder *and* the modality's tokenizer, whose code (a table schema's encoders,
lidar pillars, ...) lives in this package and its plugins; copying all of it into every
export folder would fork the package into each one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPooling

from ..config import build_config
from ..models import Encoder
from ..registry import create_modality
from .hf_config import MODEL_TYPE, JepaConfig

__all__ = ["MODEL_TYPE", "JepaConfig", "JepaModel", "save_run_model"]


class JepaModel(PreTrainedModel):
    """A run's target encoder (tokenizer + transformer) as a transformers model.

    ``forward(**inputs)`` takes the raw batch the modality's ``collate`` builds (what
    :class:`~jepa_core.export.processor.JepaProcessor` returns) and gives
    ``last_hidden_state`` (per-token features ``[B, N, D]``, what ``jepa embed --tokens``
    writes), ``pooler_output`` (pooled by the run's ``pooling``, what ``jepa embed`` writes
    for sample-level modalities) and ``valid`` (``[B, N]`` bool, the real tokens of
    each sample).
    """

    config_class = JepaConfig
    base_model_prefix = "jepa"
    main_input_name = "inputs"
    _supports_param_buffer_assignment = False

    def __init__(self, config: JepaConfig) -> None:
        super().__init__(config)
        with torch.device("cpu"):  # the encoder's init reads its weights: build it for real
            self.encoder = build_encoder(config)
            # the grid's position table, saved: a run started from model.init_hf has the checkpoint's
            pos = self.encoder.pos
            self.register_buffer("positions", None if pos is None else pos.clone())
        self.post_init()

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> "JepaModel":
        """transformers' loading, then the buffers no checkpoint holds rebuilt (see below)."""
        model = super().from_pretrained(*args, **kwargs)
        model.restore_buffers()
        return model

    def restore_buffers(self) -> None:
        """Recompute the non-persistent buffers (sin-cos table, category offsets, pixel means).

        transformers builds the model on the meta device and fills in what the checkpoint
        holds; buffers that are not saved (``persistent=False``) come out uninitialized, so
        they are taken from a freshly built encoder.
        """
        fresh = dict(build_encoder(self.config).named_modules())
        device = next(self.parameters()).device
        for name, module in self.encoder.named_modules():
            for buf in module._non_persistent_buffers_set:
                value = getattr(fresh[name], buf)
                setattr(module, buf, None if value is None else value.to(device))

    def _init_weights(self, module: torch.nn.Module) -> None:
        """Nothing to do: the encoder initializes itself and the weights come from the run."""

    def forward(self, **batch: Any) -> BaseModelOutputWithPooling:
        if self.positions is not None and self.encoder.pos is not self.positions:
            self.encoder.pos = self.positions  # the saved table, however the weights were loaded
        tokens = self.encoder.tokenize(batch)
        feats, registers = self.encoder.encode(tokens)
        pooled = self.encoder.pool(feats, registers, tokens.valid)
        out = BaseModelOutputWithPooling(last_hidden_state=feats, pooler_output=pooled)
        out["valid"] = tokens.valid
        return out


def build_encoder(config: JepaConfig) -> Encoder:
    """A fresh encoder for ``config`` (the run's config and fitted state)."""
    cfg = build_config(config.run_config)
    plugin = create_modality(config.modality)
    encoder = Encoder(plugin.build_tokenizer(cfg, config.modality_state), cfg.model, cfg.pooling)
    if config.layer_norm_eps is not None:
        for module in encoder.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.eps = config.layer_norm_eps
    return encoder


def save_run_model(run, out: Path) -> None:
    """Write ``run`` (a :class:`~jepa_core.run.LoadedRun`) as a ``JepaModel`` folder.

    ``config.json``, ``model.safetensors``, ``modality_state.json`` (the fitted state,
    also inside ``config.json``) and ``processor_config.json``.
    """
    import json

    from ..config import load_yaml
    from .processor import JepaProcessor

    encoder = run.model.target_encoder
    config = JepaConfig(modality=run.cfg.modality, run_config=load_yaml(run.path / "config.yaml"),
                        modality_state=run.state, layer_norm_eps=encoder.transformer.norm.eps)
    model = JepaModel(config)
    model.encoder.load_state_dict(encoder.state_dict())
    if encoder.pos is not None:
        model.positions.copy_(encoder.pos)
    model.save_pretrained(out)
    (out / "modality_state.json").write_text(json.dumps(run.state, indent=1))
    JepaProcessor(run.cfg.modality, config.run_config, run.state).save_pretrained(out)
