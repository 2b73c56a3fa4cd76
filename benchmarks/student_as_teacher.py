"""A copy of a run whose target encoder holds the student's weights, for ``jepa probe``.

``jepa probe RUN`` scores the target encoder (the EMA teacher). To score the student (the
context encoder, the network the optimizer trains) with exactly the same probe, this
writes ``OUT``: the run's files and its newest checkpoint with every ``target.encoder.*``
tensor replaced by the matching ``encoder.*`` one. Used in ``results/lidar_long.md``
(session 6).

Usage::

    python benchmarks/student_as_teacher.py RUN OUT [--step N] && jepa probe OUT --c auto

``--step N`` takes the checkpoint of step N instead of the newest; ``--keep-teacher``
copies it unchanged (to probe the teacher of an older checkpoint the same way).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from jepa_core.train.checkpoint import atomic_write_text, checkpoint_tag, latest_checkpoint


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("out")
    p.add_argument("--step", type=int, default=None)
    p.add_argument("--keep-teacher", action="store_true")
    args = p.parse_args()
    run, out = Path(args.run), Path(args.out)
    tag = latest_checkpoint(run / "checkpoints") if args.step is None else checkpoint_tag(args.step)
    if tag is None:
        raise SystemExit(f"{run} has no checkpoint")
    shutil.rmtree(out, ignore_errors=True)
    (out / "checkpoints").mkdir(parents=True)
    for f in run.iterdir():
        if f.is_file():
            shutil.copy(f, out / f.name)
    for f in (run / "checkpoints").glob(f"{tag}*"):
        shutil.copy(f, out / "checkpoints" / f.name)
    atomic_write_text(out / "checkpoints" / "latest.json", json.dumps({"tag": tag}))
    if args.keep_teacher:
        print(f"{out}: {tag} as it is")
        return
    weights = load_file(str(run / "checkpoints" / f"{tag}.safetensors"))
    prefix = "target.encoder."
    swapped = {k: (weights["encoder." + k[len(prefix):]] if k.startswith(prefix) else v).clone()
               for k, v in weights.items()}
    save_file(swapped, str(out / "checkpoints" / f"{tag}.safetensors"))
    print(f"{out}: {tag} with the student as target encoder")


if __name__ == "__main__":
    main()
