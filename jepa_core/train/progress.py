"""Progress bar and ``metrics.jsonl``, from rank 0 only."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from tqdm.auto import tqdm


class ProgressLogger:
    """A tqdm bar with loss and samples/s on stderr, and one JSON line per logged step.

    Args:
        metrics_path: ``metrics.jsonl`` of the run (appended to, so a resumed run goes on).
        total: the step the run ends at.
        initial: the step it starts from.
        enabled: False on ranks other than 0: then it does nothing.
        bar: show the bar (``logging.progress``).
    """

    def __init__(self, metrics_path: Path, total: int, initial: int, enabled: bool = True,
                 bar: bool = True) -> None:
        self.enabled = enabled
        self.file = open(metrics_path, "a") if enabled else None
        self.bar = tqdm(total=total, initial=initial, desc="pretrain", unit="step", file=sys.stderr,
                        dynamic_ncols=True, disable=not (enabled and bar))

    def step(self, loss: float, samples_per_s: float) -> None:
        if self.enabled:
            self.bar.set_postfix(loss=f"{loss:.4f}", samples_s=f"{samples_per_s:.0f}", refresh=False)
            self.bar.update(1)

    def log(self, record: dict) -> None:
        if self.enabled:
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in record.items()}
            self.file.write(json.dumps(clean) + "\n")
            self.file.flush()

    def message(self, text: str) -> None:
        if self.enabled:
            self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            self.bar.close()
            self.file.close()
