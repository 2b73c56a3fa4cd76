"""jepa_core: a modality-agnostic JEPA pretraining engine with compiled kernels.

The public API is re-exported here and imported lazily on first use, so
``import jepa_core`` loads neither torch nor Triton:

Examples:
    >>> import jepa_core
    >>> jepa_core.TokenLayout((4, 4)).num_tokens
    16
    >>> "masker" in jepa_core.list_components()
    True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # configuration
    "Config": "jepa_core.config",
    "ComponentConfig": "jepa_core.config",
    "ConfigError": "jepa_core.config",
    "TargetConfig": "jepa_core.config",
    "build_config": "jepa_core.config",
    "load_yaml": "jepa_core.config",
    "save_config": "jepa_core.config",
    # component registries
    "Registry": "jepa_core.registry",
    "UnknownComponentError": "jepa_core.registry",
    "UnknownModalityError": "jepa_core.registry",
    "create_component": "jepa_core.registry",
    "create_modality": "jepa_core.registry",
    "get_registry": "jepa_core.registry",
    "list_components": "jepa_core.registry",
    "list_modalities": "jepa_core.registry",
    "register_modality": "jepa_core.registry",
    # plugin interface and tokens
    "DataError": "jepa_core.modality",
    "ModalityPlugin": "jepa_core.modality",
    "ProbeData": "jepa_core.modality",
    "Tokenizer": "jepa_core.modality",
    "TokenBatch": "jepa_core.tokens",
    "TokenLayout": "jepa_core.tokens",
    # components
    "Masker": "jepa_core.masking",
    "MaskSet": "jepa_core.masking",
    "create_masker": "jepa_core.masking",
    "LatentTerm": "jepa_core.objectives",
    "Objective": "jepa_core.objectives",
    "Regularizer": "jepa_core.objectives",
    "TargetProvider": "jepa_core.targets",
    "Encoder": "jepa_core.models",
    "Predictor": "jepa_core.models",
    "Pooling": "jepa_core.models.pooling",
    "JEPA": "jepa_core.method",
    # runs
    "RunError": "jepa_core.run",
    "build_model": "jepa_core.run",
    "load_run": "jepa_core.run",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

# transformers' AutoConfig/AutoModel learn model_type 'jepa' when they load (an import hook;
# nothing is imported now).
from .export.autoregister import install as _install_hf_auto  # noqa: E402

_install_hf_auto()


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jepa_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
