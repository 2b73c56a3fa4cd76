"""Action-conditioned latent world models: trajectories, goal-conditioned envs, collection.

The trajectory format and its lazy window reader (:mod:`.trajectories`), the built-in
``two-room`` and ``three-room`` envs (:mod:`.envs`), ``jepa collect`` (:mod:`.collect`),
the plugin with its per-frame CNN / MLP tokenizer (:mod:`.plugin`). Names are imported
on first use, so ``modalities.world.cli`` loads without torch (``jepa --help``).
"""

from __future__ import annotations

import importlib

_EXPORTS = {"WorldModality": ".plugin", "WorldOptions": ".options", "FrameTokenizer": ".tokenizer",
            "TwoRoomEnv": ".envs", "ThreeRoomEnv": ".envs", "RoomsEnv": ".envs",
            "WindowDataset": ".trajectories", "list_episodes": ".trajectories",
            "write_episode": ".trajectories"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
