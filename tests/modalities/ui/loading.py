"""Load sessions through the ui plugin with a tiny model config (shared by the ui tests)."""

from __future__ import annotations

from jepa_core.config import build_config
from jepa_core.registry import create_modality


def load_ui(path, dim: int = 16, **options):
    """``(plugin, cfg, dataset, state)`` for the sessions at ``path``, a ``dim``-wide model
    and the given ``options``."""
    plugin = create_modality("ui")
    cfg = build_config({"modality": "ui"}, plugin.default_config(),
                       {"model": {"dim": dim}, "options": options})
    dataset, state = plugin.load(str(path), cfg, None)
    return plugin, cfg, dataset, state
