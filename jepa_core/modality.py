"""The modality plugin interface: what a data type provides to the JEPA engine.

A plugin reads and validates files, fits whatever transform it needs (a tabular schema,
say) into a JSON-serializable ``state`` that is saved in the run directory, builds the
tokenizer that turns a raw batch into a :class:`~jepa_core.tokens.TokenBatch`, and says
how to probe. Plugins are found through the ``jepa_core.modalities`` entry-point group
(see :mod:`jepa_core.registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from .config import Config, from_dict
from .tokens import TokenBatch, TokenLayout


class DataError(ValueError):
    """Bad input data: the message names the file (and row/column) and what was expected."""


class Tokenizer(nn.Module, ABC):
    """Turns a raw batch into embedded tokens, on a fixed grid or placed by coordinates.

    Subclasses set in ``__init__``:

    - ``layout``: the grid every sample is laid out on, or ``None`` for tokens without one
      (events, detections, ...), whose :class:`~jepa_core.tokens.TokenBatch` then carries
      ``coords`` and may hold a different number of tokens per batch;
    - ``dim``: the embedding width they output;
    - ``coord_dim``: the number of coordinates per token ``C`` (required without a grid;
      0: no coordinates);
    - ``condition_dim``: the width ``A`` of ``TokenBatch.conditions`` (actions), 0 for
      none; the predictor is conditioned on them when it is > 0.
    """

    layout: TokenLayout | None
    dim: int
    coord_dim: int = 0
    condition_dim: int = 0

    @abstractmethod
    def forward(self, batch: Any) -> TokenBatch:  # pragma: no cover - interface
        ...

    def augment(self, batch: Any, sample_ids: torch.Tensor, step: int, seed: int) -> Any:
        """The raw batch as training sees it (random crops, flips, ...); default: unchanged.

        Called by the ``masked`` method in training only (embedding and probing never
        augment), on the device, before :meth:`forward`; the context and the target
        encoder see the same augmented batch. Draws must be keyed by ``(seed, step,
        sample id)`` so a resumed run augments exactly as the uninterrupted one.
        """
        return batch


@dataclass
class ProbeData:
    """What ``jepa probe`` needs: samples to embed, their labels, a raw-feature baseline.

    Args:
        dataset: samples in the plugin's own format (as returned by ``load``).
        targets: labels, ``[S]`` for sample-level probes or ``[S, N]`` per token
            (``-1`` where a token has no label).
        raw_features: the baseline's inputs, ``[S, F]`` or ``[S, N, F]``; ``None`` for none.
        task: ``classification`` or ``regression``.
        metric: ``accuracy``, ``r2`` or ``miou``.
        level: ``sample`` (pooled embeddings) or ``token`` (one embedding per grid cell).
        raw_tokens: optional per-token raw inputs ``[S, N, F]`` of a sample-level task
            (image patches, say), the inputs of the attentive probe's raw baseline; without
            them that baseline is a linear probe on ``raw_features``.
        raw_valid: ``[S, N]`` which of ``raw_tokens`` are real (``None``: all).
    """

    dataset: Dataset
    targets: np.ndarray
    raw_features: np.ndarray | None
    task: str
    metric: str
    level: str = "sample"
    raw_tokens: np.ndarray | None = None
    raw_valid: np.ndarray | None = None


class ModalityPlugin(ABC):
    """Base class of every modality plugin.

    Class attributes:
        name: the registry name (``jepa pretrain NAME``).
        options_class: dataclass of the plugin's own ``options`` config section.
        embedding_level: ``sample`` (``embed`` writes ``[S, D]``) or ``token`` (``[S, N, D]``,
            only for a tokenizer with a grid).
        demo_probe_flags: extra ``jepa probe`` flags the demo's documented numbers use
            (printed after pretraining on the demo data).
        data_options: ``options`` fields a user may also write under ``data.`` (the
            image plugin's ``data.image_size``); :meth:`move_data_options` moves them.
        embed_options: ``options`` fields ``jepa embed`` and ``jepa probe`` may change for
            a trained run (``--set options.KEY=VALUE``, or ``data.KEY`` for a data
            option): how data is read (the image plugin's ``image_size``, the model
            resamples its positions to the new grid), never the model's shapes.
    """

    name: ClassVar[str]
    options_class: ClassVar[type | None] = None
    embedding_level: ClassVar[str] = "sample"
    demo_probe_flags: ClassVar[str] = ""
    data_options: ClassVar[tuple[str, ...]] = ()
    embed_options: ClassVar[tuple[str, ...]] = ()

    def move_data_options(self, layer: dict, where: str = "config") -> dict:
        """A user's config layer with its ``data.<key>`` for each of :attr:`data_options`
        moved to ``options.<key>``, before the layer is validated.

        Raises:
            jepa_core.config.ConfigError: both spellings given with different values.

        Examples:
            >>> class P(ModalityPlugin):
            ...     name, data_options = "p", ("image_size",)
            ...     def load(self, *a): ...
            ...     def build_tokenizer(self, *a): ...
            ...     def probe_data(self, *a): ...
            >>> P().move_data_options({"data": {"image_size": 64, "batch_size": 8}})
            {'data': {'batch_size': 8}, 'options': {'image_size': 64}}
        """
        data = layer.get("data") if isinstance(layer, dict) else None
        if not isinstance(data, dict) or not any(k in data for k in self.data_options):
            return layer
        from .config import ConfigError

        data, options = dict(data), dict(layer.get("options") or {})
        for key in self.data_options:
            if key in data:
                value = data.pop(key)
                if key in options and options[key] != value:
                    raise ConfigError(f"{where}: data.{key}={value!r} and options.{key}="
                                      f"{options[key]!r} are the same setting; give one")
                options[key] = value
        return {**layer, "data": data, "options": options}

    def with_embed_options(self, state: dict, overrides: list[str]) -> dict:
        """A trained run's ``state`` with ``--set KEY=VALUE`` items applied to its options,
        for reading data in ``embed``/``probe`` (the model keeps the run's own state).

        Raises:
            jepa_core.config.ConfigError: a key that is not one of :attr:`embed_options`.

        Examples:
            >>> class P(ModalityPlugin):
            ...     name, data_options, embed_options = "p", ("image_size",), ("image_size",)
            ...     def load(self, *a): ...
            ...     def build_tokenizer(self, *a): ...
            ...     def probe_data(self, *a): ...
            >>> P().with_embed_options({"options": {"image_size": 32}}, ["data.image_size=64"])
            {'options': {'image_size': 64}}
        """
        if not overrides:
            return state
        from .config import ConfigError, parse_overrides

        layer = self.move_data_options(parse_overrides(overrides), "--set")
        allowed = ", ".join(f"options.{k}" for k in self.embed_options) or "none"
        for section, values in layer.items():
            keys = values if isinstance(values, dict) else {"": None}
            for key in keys:
                if section != "options" or key not in self.embed_options:
                    name = f"{section}.{key}" if key else section
                    raise ConfigError(f"--set {name}: embed and probe use the trained run's config; "
                                      f"the settings modality {self.name!r} lets them change are: {allowed}")
        return {**state, "options": {**(state.get("options") or {}), **layer.get("options", {})}}

    def default_config(self) -> dict:
        """Config sections this modality overrides by default (sized for a 2-core CPU)."""
        return {}

    def options(self, cfg: Config) -> Any:
        """The validated ``options`` section as the plugin's dataclass."""
        if self.options_class is None:
            return None
        return from_dict(self.options_class, cfg.options or {}, where="options")

    def run_options(self, cfg: Config, state: dict | None) -> Any:
        """The options a run was fitted with (``state["options"]``, saved by ``load``), or
        the config's when there is no such state yet (a new run)."""
        if state is not None and "options" in state:
            return from_dict(self.options_class, state["options"], where="options")
        return self.options(cfg)

    def checked_options(self, cfg: Config, state: dict | None) -> Any:
        """:meth:`run_options`, validated by their ``validate()`` when they have one.

        Raises:
            DataError: an option is out of range (the options' own message).
        """
        try:
            opts = self.run_options(cfg, state)
            if hasattr(opts, "validate"):
                opts.validate()
        except ValueError as e:
            raise DataError(str(e)) from None
        return opts

    def demo_data(self) -> str:
        """Path to the embedded demo dataset used when no ``--data`` is given."""
        raise DataError(f"modality {self.name!r} has no embedded demo dataset; pass --data")

    def demo_label(self, path: str | None) -> str | None:
        """The ``--label`` that goes with ``path`` when it is this plugin's demo data, else None.

        ``jepa probe`` uses it when no ``--label`` is given. It must not create the demo.
        """
        return None

    def end_report(self) -> str | None:
        """A line on what the command's data reading left out (bad files skipped), or None.

        ``jepa pretrain``, ``embed`` and ``probe`` print it to stderr when they end.
        """
        return None

    def describe_state(self, state: dict) -> str | None:
        """A short human account of the fitted ``state`` (printed when pretraining starts)."""
        return None

    def embedding_columns(self, state: dict, cfg: Config, width: int) -> list[str] | None:
        """Names of the ``width`` embedding columns ``embed`` writes, or None for ``emb_i``."""
        return None

    @abstractmethod
    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[Dataset, dict]:
        """Read and validate ``path``; fit the transform when ``state`` is None.

        Returns the dataset and the (possibly new) state, which must be JSON-serializable.
        Raises :class:`DataError` for any bad input, before training starts.
        """

    @abstractmethod
    def build_tokenizer(self, cfg: Config, state: dict) -> Tokenizer:
        """The tokenizer for data described by ``state``."""

    def collate(self, samples: list) -> Any:
        """Stack samples into a raw batch (default: torch's ``default_collate``)."""
        return default_collate(samples)

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        """Samples, labels and baseline features for ``jepa probe``."""
        raise DataError(f"modality {self.name!r} does not support probing")


def move_to(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a nested batch to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch
