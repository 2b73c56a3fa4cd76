"""``jepa decode``: generate a session's intent text from its frozen trace embedding.

A decoder adapter in the spirit of UI-JEPA: the run's encoder stays frozen; its event
features (``--features tokens``, one per event) or its pooled vector (``pooled``, mapped
to ``--prefix`` vectors) pass through a small trainable projector (a two-layer MLP) into
the input-embedding space of a causal language model, loaded offline from a local
``transformers`` directory (``AutoModelForCausalLM`` and the directory's tokenizer). The
projected vectors are a prefix to the intent text; the projector and the LM (the
projector alone with ``--freeze-lm``) are trained by next-token cross-entropy on the
text. On held-out sessions the intent is generated greedily and scored by exact match
and token F1 (over lower-cased words). The projector is saved to ``--out`` (the LM too,
under ``--out/lm``, when it was fine-tuned).

This module imports no torch at import time: ``jepa --help`` reads its parser.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path


def add_decode_parser(sub, command) -> argparse.ArgumentParser:
    """The ``jepa decode`` sub-command (``command``: the CLI's sub-parser factory)."""
    de = command(sub, "decode", "train an intent decoder: trace embeddings into a local causal LM",
                 "Project a ui run's frozen trace embeddings into the input space of a local "
                 "causal language model (a transformers directory, loaded offline) and train the "
                 "projector to generate each session's --label text. Prints one JSON object: "
                 "exact match and token F1 on held-out sessions.")
    de.add_argument("run_dir", help="the --out of a finished `jepa pretrain ui`")
    de.add_argument("--data", help="trace file or folder (default: the run's pretraining data)")
    de.add_argument("--label", required=True, help="the session field holding the text (e.g. intent)")
    de.add_argument("--decoder", required=True, metavar="LM_DIR",
                    help="a local transformers causal LM directory with its tokenizer")
    de.add_argument("--out", required=True, help="folder for the trained projector")
    de.add_argument("--features", choices=["tokens", "pooled"], default="tokens",
                    help="the encoder's per-event features, or its pooled vector")
    de.add_argument("--prefix", type=int, default=4, help="prefix vectors of --features pooled")
    de.add_argument("--epochs", type=int, default=30, help="passes over the training sessions")
    de.add_argument("--batch-size", type=int, default=32, help="sessions per training step")
    de.add_argument("--lr", type=float, default=3e-3, help="AdamW learning rate")
    de.add_argument("--freeze-lm", action="store_true",
                    help="train the projector alone (default: the LM is fine-tuned with it)")
    de.add_argument("--max-new-tokens", type=int, default=16,
                    help="tokens generated at most per held-out session")
    de.add_argument("--seed", type=int, default=0, help="seed of the held-out split and training")
    de.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="where to run the encoder and the LM (auto: cuda when available)")
    return de


def words(text: str) -> list[str]:
    """Lower-cased word tokens, what exact match and token F1 compare.

    Examples:
        >>> words("Connect to Wi-Fi!")
        ['connect', 'to', 'wi', 'fi']
    """
    return re.findall(r"\w+", str(text).lower())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style F1 of the word multisets of two texts.

    Examples:
        >>> token_f1("buy a product", "buy a phone")
        0.6666666666666666
    """
    p, r = words(prediction), words(reference)
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


def load_lm(lm_dir: str):
    """The causal LM and tokenizer of ``lm_dir``, offline; a DataError when it is not one."""
    from jepa_core.modality import DataError

    try:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise DataError("jepa decode needs transformers: pip install 'jepa-core[hf]'") from None
    path = Path(lm_dir)
    if not (path / "config.json").is_file():
        raise DataError(f"{path}: not a transformers model directory (no config.json); --decoder "
                        f"needs a local causal LM saved with save_pretrained")
    try:
        config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{path}/config.json: not a transformers config ({e})") from None
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    except ValueError:
        raise DataError(f"{path}: not a causal language model (its config is a "
                        f"{type(config).__name__}, model_type {config.model_type!r}, which "
                        f"AutoModelForCausalLM cannot load)") from None
    except OSError as e:
        raise DataError(f"{path}: the causal LM's weights cannot be loaded ({e})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError):
        tokenizer = None
    if tokenizer is None or not hasattr(tokenizer, "encode"):
        raise DataError(f"{path}: has no tokenizer (expected tokenizer.json or the tokenizer files "
                        f"saved with the model's tokenizer.save_pretrained)")
    if tokenizer.eos_token_id is None:
        raise DataError(f"{path}: the tokenizer has no end-of-sequence token (eos_token), which "
                        f"ends every generated intent")
    return model, tokenizer


def cmd_decode(args) -> int:
    """Train the projector, score held-out sessions, print one JSON object."""
    import torch

    from jepa_core.eval import encode_dataset, split_indices
    from jepa_core.eval.embed import encode_tokens
    from jepa_core.run import RunError, load_run
    from jepa_core.train import DistEnv, pick_device

    from .adapter import PrefixDecoder, greedy_decode, train_decoder
    from .dataset import UIDataset
    from .plugin import session_labels

    if args.epochs < 1 or args.batch_size < 1 or args.prefix < 1:
        raise ValueError("--epochs, --batch-size and --prefix must be >= 1")
    run = load_run(args.run_dir)
    if run.plugin.name != "ui":
        raise RunError(f"{run.path} is a {run.plugin.name!r} run; jepa decode takes ui runs")
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise RunError(f"{out}: already exists and is not empty; pick a new --out")
    lm, tokenizer = load_lm(args.decoder)
    device = pick_device(args.device, DistEnv())
    data_path = args.data or run.cfg.data.path
    sessions, state, opts = run.plugin.read(data_path, run.cfg, run.state)
    texts = [str(v) for v in session_labels(sessions, args.label)]
    dataset = UIDataset(sessions, state, opts)
    encoder = run.model.target_encoder
    if args.features == "pooled":  # the run's own pooling: one vector per session
        pooled = torch.from_numpy(encode_dataset(encoder, run.plugin, dataset, "sample", 256, device))
        feats, valid = pooled[:, None, :], torch.ones(len(pooled), 1, dtype=torch.bool)
    else:
        feats, valid = (torch.from_numpy(a) for a in encode_tokens(encoder, run.plugin, dataset, 256, device))
    classes = sorted(set(texts))
    strat = [classes.index(t) for t in texts]
    train, test = split_indices(len(texts), torch.tensor(strat).numpy(), seed=args.seed)
    torch.manual_seed(args.seed)
    decoder = PrefixDecoder(lm, feats.shape[-1], args.prefix if args.features == "pooled" else 1,
                            train_lm=not args.freeze_lm)
    decoder.to(device)
    losses = train_decoder(decoder, tokenizer, feats[train], valid[train], [texts[i] for i in train],
                           epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           seed=args.seed, device=device, progress=True)
    predictions = greedy_decode(decoder, tokenizer, feats[test], valid[test], args.max_new_tokens,
                                args.batch_size, device)
    refs = [texts[i] for i in test]
    exact = sum(words(p) == words(r) for p, r in zip(predictions, refs)) / len(refs)
    f1 = sum(token_f1(p, r) for p, r in zip(predictions, refs)) / len(refs)
    decoder.save(out, {"run_dir": str(run.path), "decoder": str(args.decoder), "label": args.label,
                       "features": args.features, "prefix": args.prefix, "train_lm": not args.freeze_lm})
    result = {"label": args.label, "exact_match": round(exact, 4), "token_f1": round(f1, 4),
              "n_train": len(train), "n_test": len(test), "epochs": args.epochs,
              "first_loss": round(losses[0], 4), "final_loss": round(losses[-1], 4),
              "features": args.features, "train_lm": not args.freeze_lm, "out": str(out),
              "examples": [{"reference": r, "generated": p} for r, p in zip(refs[:3], predictions[:3])]}
    print(json.dumps(result))
    print(f"exact match and token F1 on {len(test)} held-out sessions (split seed {args.seed})",
          file=sys.stderr)
    return 0
