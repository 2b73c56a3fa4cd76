"""Progress bar and ``metrics.jsonl``, from rank 0 only."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from .sinks import ScalarSink, _scalars

#: Without a terminal (a log file, CI) a plain line is printed this many times per run.
PLAIN_LINES = 10


class ProgressLogger:
    """A tqdm bar with loss and samples/s on stderr, and one JSON line per logged step.

    On a terminal the bar redraws in place; when stderr is not a terminal (a log file)
    the bar is off and a plain ``step N/T loss L`` line is printed every tenth of the run
    instead of stale ``\\r`` bar fragments.

    Args:
        metrics_path: ``metrics.jsonl`` of the run (appended to, so a resumed run goes on).
        total: the step the run ends at.
        initial: the step it starts from.
        enabled: False on ranks other than 0: then it does nothing.
        bar: show progress (``logging.progress``).
        sinks: also given every logged record (TensorBoard, W&B: see :mod:`.sinks`).
    """

    def __init__(self, metrics_path: Path, total: int, initial: int, enabled: bool = True,
                 bar: bool = True, sinks: Sequence[ScalarSink] = ()) -> None:
        self.enabled = enabled
        self.sinks = list(sinks) if enabled else []
        self.file = open(metrics_path, "a") if enabled else None
        self.progress = LoopProgress(total, "pretrain", "step", enabled=enabled and bar, initial=initial,
                                     plain="step {done}/{total}  loss {loss}  {samples_s} samples/s")

    def step(self, loss: float, samples_per_s: float) -> None:
        if self.enabled:
            self.progress.update(loss=f"{loss:.4f}", samples_s=f"{samples_per_s:.0f}")

    def log(self, record: dict) -> None:
        if self.enabled:
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in record.items()}
            self.file.write(json.dumps(clean) + "\n")
            self.file.flush()
            for sink in self.sinks:
                sink.write(int(record["step"]), _scalars(record))

    def message(self, text: str) -> None:
        if self.enabled:
            self.progress.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            self.progress.close()
            self.file.close()
            for sink in self.sinks:
                sink.close()


class LoopProgress:
    """Progress of a loop of known length on stderr, for commands other than ``pretrain``.

    On a terminal a tqdm bar redraws in place; without one (a log file, CI) a plain
    ``DESC: UNIT N/T  key value ...`` line is printed every tenth of the loop and at its
    end, as :class:`ProgressLogger` does for training steps.

    Args:
        total: how many updates the loop makes (counting ``initial``).
        desc: what runs, e.g. ``"plan two-room"``.
        unit: what one update is, e.g. ``"episode"``.
        enabled: ``False`` prints nothing.
        initial: updates already done (a resumed loop).
        plain: the plain line as a :meth:`str.format` template of ``done``, ``total``,
            ``desc``, ``unit``, ``extra`` (the postfix as ``"  key value ..."``) and each
            postfix key; the default is ``DESC: UNIT N/T  key value ...``.

    Examples:
        >>> bar = LoopProgress(2, "demo", "epoch", enabled=False)
        >>> bar.update(loss=0.5); bar.update(loss=0.25); bar.close()
        >>> bar.done
        2
    """

    def __init__(self, total: int, desc: str, unit: str, enabled: bool = True, initial: int = 0,
                 plain: str = "{desc}: {unit} {done}/{total}{extra}") -> None:
        self.total, self.done, self.desc, self.unit, self.plain = total, initial, desc, unit, plain
        interactive = sys.stderr.isatty()
        self.plain_every = max(1, total // PLAIN_LINES) if enabled and not interactive else 0
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                        dynamic_ncols=True, disable=not (enabled and interactive))

    def update(self, **postfix: float | int | str) -> None:
        """One more iteration done; ``postfix`` values are shown beside the count."""
        self.done += 1
        shown = {k: (f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in postfix.items()}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)
        if self.plain_every and (self.done % self.plain_every == 0 or self.done == self.total):
            extra = "".join(f"  {k} {v}" for k, v in shown.items())
            line = self.plain.format(done=self.done, total=self.total, desc=self.desc, unit=self.unit,
                                     extra=extra, **shown)
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()
