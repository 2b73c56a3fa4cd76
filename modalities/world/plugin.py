"""The world modality plugin: trajectories to per-frame latents for the ``world`` method."""

from __future__ import annotations

import dataclasses

from jepa_core.config import Config
from jepa_core.modality import DataError, ModalityPlugin, Tokenizer

from .options import WorldOptions
from .tokenizer import FrameTokenizer
from .trajectories import WindowDataset, list_episodes


class WorldModality(ModalityPlugin):
    """Trajectories (see :mod:`modalities.world.trajectories`) for action-conditioned world models.

    ``--data`` is a ``.npz`` file or a folder of them; without it, a small two-room demo
    dataset is collected once and cached (:func:`modalities.world.demo.demo_root`). Each
    sample is a window of ``options.history + options.horizon`` frames with their
    actions; the tokenizer encodes each frame to one latent. Pretraining uses the
    ``world`` method (teacher forcing + rollout, SIGReg, no teacher); ``jepa plan`` plans
    with the trained model.
    """

    name = "world"
    options_class = WorldOptions
    embedding_level = "sample"

    def default_config(self) -> dict:
        """LeWorldModel's recipe at CPU size: teacher-free, L2 prediction loss on raw latents,
        SIGReg on every frame's latent; a 3-stage CNN to 16-wide latents, a 2-block
        predictor 64 wide.

        SIGReg's weight is 0.02, below LeWorldModel's 0.1: at 0.1 (and 32 dims) the 2-D
        position manifold is spread so evenly over the isotropic latent space that the
        distance to a goal is flat beyond its neighbourhood, and planning fails. The
        temporal-smoothness term (``method.smoothness``) keeps that distance growing
        with the distance travelled, which the planner's energy relies on (settings and
        numbers in ``benchmarks/results/world_notes.md``)."""
        return {
            "data": {"batch_size": 64, "num_workers": 0},
            "model": {"dim": 16},
            "target": {"kind": "none"},
            "objective": {"loss": "l2", "normalize_targets": False, "sigreg": 0.02,
                          "sigreg_slices": 128},
            "optim": {"epochs": 10, "lr": 1e-3, "min_lr": 1e-5, "warmup": 0.05,
                      "weight_decay": [0.01, 0.01]},
            "predictor": {"name": "action", "dim": 64, "depth": 2, "heads": 4, "action_dim": 32},
            "method": {"name": "world", "smoothness": 0.1},
        }

    def demo_data(self) -> str:
        from .demo import demo_root

        return str(demo_root())

    def _opts(self, cfg: Config, state: dict | None) -> WorldOptions:
        return self.checked_options(cfg, state)

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[WindowDataset, dict]:
        opts = self._opts(cfg, state)
        episodes = list_episodes(path)
        if state is not None and "obs_shape" in state:
            if tuple(state["obs_shape"]) != episodes.obs_shape or state["env_action_dim"] != episodes.action_dim:
                raise DataError(f"{path}: observations {episodes.obs_shape} and action width "
                                f"{episodes.action_dim} differ from the run's "
                                f"{tuple(state['obs_shape'])} and {state['env_action_dim']}")
        dataset = WindowDataset(episodes, opts.window, opts.frame_skip, opts.stride)
        new_state = {"options": dataclasses.asdict(opts), "obs_shape": list(episodes.obs_shape),
                     "env_action_dim": episodes.action_dim, "pixels": episodes.pixels,
                     "episodes": len(dataset.episodes), "skipped_short": dataset.skipped}
        return dataset, new_state

    def build_tokenizer(self, cfg: Config, state: dict) -> Tokenizer:
        opts = self._opts(cfg, state)
        encoder = opts.encoder if opts.encoder != "auto" else ("cnn" if state["pixels"] else "mlp")
        return FrameTokenizer(tuple(state["obs_shape"]), opts.frame_skip * state["env_action_dim"],
                              opts.window, opts.history, cfg.model.dim, encoder, opts.channels,
                              opts.hidden)

    def describe_state(self, state: dict) -> str | None:
        o = state["options"]
        kind = "images" if state["pixels"] else "state vectors"
        skipped = f", {state['skipped_short']} short ones skipped" if state.get("skipped_short") else ""
        return (f"{state['episodes']} episodes of {kind} {tuple(state['obs_shape'])}, actions of width "
                f"{state['env_action_dim']}{skipped}; windows of {o['history']} + {o['horizon']} frames, "
                f"frame_skip {o['frame_skip']}")
