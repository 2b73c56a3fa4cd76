"""``jepa export RUN --format hf --out DIR [--force]``: the command line of the export.

Torch-free at import, like ``jepa_core.cli``: the work is imported inside :func:`cmd_export`.
"""

from __future__ import annotations

import json
import sys
from typing import Callable


def add_export_parser(sub, command: Callable) -> None:
    """Add the ``export`` sub-command to ``sub`` (``command`` builds a sub-parser, as in cli.py)."""
    ex = command(sub, "export", "write a run as a Hugging Face transformers model folder",
                 "Write the run's encoder as a transformers model folder. An image run whose "
                 "encoder is a plain ViT (no registers, global attention) becomes transformers' "
                 "own I-JEPA (AutoModel loads it without this package); every other run becomes "
                 "this package's JepaModel with its fitted modality state and a JepaProcessor. "
                 "A README.md model card says how to load it.")
    ex.add_argument("run_dir", help="the --out of a `jepa pretrain`")
    ex.add_argument("--format", choices=["hf"], default="hf", help="hf: Hugging Face transformers")
    ex.add_argument("--out", required=True, help="the folder to write (refused when it exists and "
                                                 "is not empty, unless --force)")
    ex.add_argument("--force", action="store_true",
                    help="write into an existing folder, replacing the files an export writes")


def cmd_export(args) -> int:
    """Run ``jepa export``; prints one JSON object (out, format, reason)."""
    from .writer import export_run

    result = export_run(args.run_dir, args.out, force=args.force)
    if result["reason"]:
        print(f"note: not exported as I-JEPA because {result['reason']}; wrote a JepaModel instead",
              file=sys.stderr)
    print(json.dumps(result))
    return 0
