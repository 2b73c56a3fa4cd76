"""``jepa`` with the toy modality registered, for tests run under torchrun (or plain python).

``python dist_cli.py pretrain toy --data X --out RUN ...`` behaves like the ``jepa``
command. With ``JEPA_TEST_RANK_STATE=DIR`` set, every rank also writes its own local
parameters after ``Trainer.fit`` to ``DIR/rank{r}.pt``, so a test can check that the
ranks hold the same model. With ``JEPA_TEST_STALL=RANK:STEP:SECONDS`` that rank sleeps
before it gets the batch of that step (a stalled data loader; a SIGTERM ends it).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jepa_core import cli  # noqa: E402
from jepa_core.registry import register_modality  # noqa: E402
from jepa_core.train import EpochBatches, Trainer  # noqa: E402
from tests.toy_modality import ToyModality  # noqa: E402


def _dump_rank_state(fit):
    def wrapper(self: Trainer, *args, **kwargs):
        result = fit(self, *args, **kwargs)
        out = Path(os.environ["JEPA_TEST_RANK_STATE"])
        out.mkdir(parents=True, exist_ok=True)
        params = {name: p.detach().clone() for name, p in self.model.named_parameters()}
        torch.save(params, out / f"rank{self.env.rank}.pt")
        return result
    return wrapper


def _stall(iterate, rank: int, at: int, seconds: float):
    """Sleep ``seconds`` before batch ``at`` on ``rank``; a SIGTERM (the launcher stopping the
    job) ends the process at once, where the trainer's handler would wait for a step boundary
    the sleeping rank never reaches and torchrun would SIGKILL it only 30 s later."""
    def wrapper(self: EpochBatches, *args, **kwargs):
        for step, ids, batch in iterate(self, *args, **kwargs):
            if step == at and self.env.rank == rank:
                previous = signal.signal(signal.SIGTERM, lambda *_: os._exit(128 + signal.SIGTERM))
                time.sleep(seconds)
                signal.signal(signal.SIGTERM, previous)
            yield step, ids, batch
    return wrapper


if __name__ == "__main__":
    register_modality("toy", ToyModality, source="tests")
    if os.environ.get("JEPA_TEST_RANK_STATE"):
        Trainer.fit = _dump_rank_state(Trainer.fit)
    if os.environ.get("JEPA_TEST_STALL"):
        r, s, secs = os.environ["JEPA_TEST_STALL"].split(":")
        EpochBatches.iterate = _stall(EpochBatches.iterate, int(r), int(s), float(secs))
    sys.exit(cli.main(sys.argv[1:]))
