"""Export runs to Hugging Face ``transformers`` and import I-JEPA checkpoints from it.

- :mod:`.ijepa`: an image run's encoder as transformers' own ``IJepaModel`` (and back);
- :mod:`.hf_model`: any run as this package's ``JepaModel`` (model_type ``jepa``);
- :mod:`.processor`: ``JepaProcessor``, raw inputs to that model's inputs;
- :mod:`.hf_import`: ``model.init_hf`` / ``target.frozen_hf``, an I-JEPA checkpoint
  directory as the encoder's initialization or a frozen teacher;
- :mod:`.command`: ``jepa export RUN --format hf --out DIR``.

Importing this package loads neither torch nor transformers; :mod:`.autoregister`
registers ``JepaConfig``/``JepaModel`` with transformers' Auto classes when (and only
when) transformers loads them.
"""

from __future__ import annotations


def require_transformers(what: str) -> None:
    """Raise a one-line :class:`~jepa_core.config.ConfigError` when transformers is missing.

    Args:
        what: the feature that needs it (``jepa export --format hf``, ``model.init_hf``).
    """
    import importlib.util

    if importlib.util.find_spec("transformers") is None:
        from ..config import ConfigError

        raise ConfigError(f"{what} needs the transformers package: pip install 'jepa-core[hf]'")
