"""``JepaProcessor``: raw data to the inputs of an exported ``JepaModel``.

The processor is the run's modality plugin with its fitted state: it reads and validates
data exactly as ``jepa embed`` does (the same reader, the same fitted transform, the
same errors) and collates the samples into one batch, so that
``model(**processor(data))`` gives what ``jepa embed`` gives.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import build_config
from ..modality import DataError
from ..registry import create_modality

CONFIG_NAME = "processor_config.json"
STATE_NAME = "modality_state.json"


class JepaProcessor:
    """Turns a file, a folder or (for tables) a pandas DataFrame into model inputs.

    Args:
        modality: the plugin's name.
        run_config: the run's config as a mapping (``config.yaml``).
        modality_state: the plugin's fitted state (``modality_state.json``).

    Examples:
        >>> proc = JepaProcessor.from_pretrained("hub/houses-tjepa")  # doctest: +SKIP
        >>> inputs = proc(frame)                                       # doctest: +SKIP
    """

    def __init__(self, modality: str, run_config: dict, modality_state: dict) -> None:
        self.modality = modality
        self.run_config = run_config
        self.modality_state = modality_state
        self.plugin = create_modality(modality)
        self.cfg = build_config(run_config)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "JepaProcessor":
        """The processor saved in an export folder (``processor_config.json`` + ``modality_state.json``).

        Raises:
            DataError: a file is missing or is not this processor's.
        """
        folder = Path(folder)
        path = folder / CONFIG_NAME
        if not path.is_file() or not (folder / STATE_NAME).is_file():
            raise DataError(f"{folder} has no {CONFIG_NAME} and {STATE_NAME}: it is not a `jepa export` of "
                            "a JepaModel (an I-JEPA export uses transformers' AutoImageProcessor)")
        config = json.loads(path.read_text())
        if config.get("processor_class") != cls.__name__:
            raise DataError(f"{path}: processor_class is {config.get('processor_class')!r}, not {cls.__name__!r}")
        return cls(config["modality"], config["run_config"], json.loads((folder / STATE_NAME).read_text()))

    def save_pretrained(self, folder: str | Path) -> None:
        """Write ``processor_config.json`` and ``modality_state.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps({"processor_class": type(self).__name__,
                                                      "modality": self.modality,
                                                      "run_config": self.run_config}, indent=1))
        (folder / STATE_NAME).write_text(json.dumps(self.modality_state, indent=1))

    def dataset(self, inputs: Any):
        """The plugin's dataset of ``inputs`` (a path, or a DataFrame for a table)."""
        if hasattr(inputs, "to_parquet"):  # a DataFrame: the plugin reads it as a file, validated alike
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "frame.parquet"
                inputs.to_parquet(path, index=False)
                return self.plugin.load(str(path), self.cfg, self.modality_state)[0]
        if not isinstance(inputs, (str, Path)):
            raise DataError(f"JepaProcessor takes a path (file or folder) or a DataFrame, got "
                            f"{type(inputs).__name__}")
        return self.plugin.load(str(inputs), self.cfg, self.modality_state)[0]

    def batches(self, inputs: Any, batch_size: int = 256) -> Iterator[dict]:
        """Model inputs, ``batch_size`` samples at a time (for data too large for one batch)."""
        dataset = self.dataset(inputs)
        for start in range(0, len(dataset), batch_size):
            yield self.plugin.collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])

    def __call__(self, inputs: Any) -> dict:
        """All samples of ``inputs`` collated into one batch: ``model(**processor(inputs))``.

        Raises:
            DataError: the plugin's own errors for bad data, or no samples at all.
        """
        dataset = self.dataset(inputs)
        if len(dataset) == 0:
            raise DataError(f"no samples in {inputs if isinstance(inputs, (str, Path)) else 'the input'}")
        return self.plugin.collate([dataset[i] for i in range(len(dataset))])
