"""The intent decoder: a trainable projector from trace embeddings into a causal LM's inputs."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor, nn


class PrefixDecoder(nn.Module):
    """Trace features, projected to ``prefix`` LM input vectors each, lead the text.

    Args:
        lm: a ``transformers`` causal LM (frozen unless ``train_lm``).
        feat_dim: width ``D`` of the trace features.
        prefix: LM input vectors per feature vector (1 per event token; several for one
            pooled vector).
        train_lm: fine-tune the LM beside the projector.

    Shapes:
        feats ``[B, N, D]``, valid ``[B, N]`` -> prefix ``[B, N * prefix, H]`` (``H``: the
        LM's embedding width).
    """

    def __init__(self, lm: nn.Module, feat_dim: int, prefix: int = 1, train_lm: bool = False) -> None:
        super().__init__()
        self.lm = lm
        self.prefix = prefix
        self.hidden = lm.get_input_embeddings().embedding_dim
        self.projector = nn.Sequential(nn.LayerNorm(feat_dim), nn.Linear(feat_dim, 2 * self.hidden),
                                       nn.GELU(), nn.Linear(2 * self.hidden, prefix * self.hidden))
        self.train_lm = train_lm
        for p in lm.parameters():
            p.requires_grad_(train_lm)

    def project(self, feats: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        b, n, _ = feats.shape
        prefix = self.projector(feats).reshape(b, n * self.prefix, self.hidden)
        return prefix, valid.repeat_interleave(self.prefix, dim=1)

    def logits(self, prefix: Tensor, prefix_mask: Tensor, ids: Tensor, ids_mask: Tensor) -> Tensor:
        """LM logits over ``[prefix, ids]``; positions count only the unmasked inputs."""
        embeds = torch.cat([prefix, self.lm.get_input_embeddings()(ids)], dim=1)
        mask = torch.cat([prefix_mask, ids_mask], dim=1).long()
        positions = (mask.cumsum(-1) - 1).clamp_min(0)
        return self.lm(inputs_embeds=embeds, attention_mask=mask, position_ids=positions).logits

    def loss(self, feats: Tensor, valid: Tensor, ids: Tensor, ids_mask: Tensor) -> Tensor:
        """Next-token cross-entropy on the text tokens only."""
        prefix, prefix_mask = self.project(feats, valid)
        logits = self.logits(prefix, prefix_mask, ids, ids_mask)
        k = prefix.shape[1]
        pred = logits[:, k - 1:-1]  # the position before each text token predicts it
        return nn.functional.cross_entropy(pred[ids_mask], ids[ids_mask])

    def save(self, out: Path, meta: dict) -> None:
        """``projector.safetensors`` + ``decoder.json`` (+ the LM under ``lm/`` when trained)."""
        from safetensors.torch import save_file

        out.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.projector.state_dict().items()},
                  str(out / "projector.safetensors"))
        if self.train_lm:
            self.lm.save_pretrained(str(out / "lm"))
        (out / "decoder.json").write_text(json.dumps({**meta, "hidden": self.hidden}, indent=2) + "\n")


def encode_texts(tokenizer, texts: list[str]) -> tuple[Tensor, Tensor]:
    """Token ids of each text followed by the end-of-sequence token, right-padded.

    Returns:
        ``(ids [B, T] int64, mask [B, T] bool)``.
    """
    eos = tokenizer.eos_token_id
    rows = [tokenizer.encode(t, add_special_tokens=False) + [eos] for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), eos, dtype=torch.int64)
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, :len(r)], mask[i, :len(r)] = torch.tensor(r), True
    return ids, mask


def train_decoder(decoder: PrefixDecoder, tokenizer, feats: Tensor, valid: Tensor, texts: list[str], *,
                  epochs: int, batch_size: int, lr: float, seed: int, device,
                  progress: bool = False) -> list[float]:
    """AdamW on the trainable parameters; the mean loss of each epoch.

    ``progress`` shows the epochs done and their loss on stderr (a bar on a terminal, else
    a plain line every tenth of the epochs).
    """
    from jepa_core.train.progress import LoopProgress

    ids, ids_mask = encode_texts(tokenizer, texts)
    params = [p for p in decoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed)
    decoder.train()
    decoder.lm.train(decoder.train_lm)
    history = []
    bar = LoopProgress(epochs, "decode", "epoch", enabled=progress)
    for _ in range(epochs):
        order = torch.randperm(len(texts), generator=gen)
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            loss = decoder.loss(feats[idx].to(device), valid[idx].to(device), ids[idx].to(device),
                                ids_mask[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            total += loss.detach().item() * len(idx)
        history.append(total / len(texts))
        bar.update(loss=history[-1])
    bar.close()
    decoder.eval()
    return history


@torch.no_grad()
def greedy_decode(decoder: PrefixDecoder, tokenizer, feats: Tensor, valid: Tensor, max_new_tokens: int,
                  batch_size: int, device) -> list[str]:
    """The most likely text after each prefix, token by token, up to end-of-sequence."""
    eos = tokenizer.eos_token_id
    decoder.eval()
    out: list[str] = []
    for start in range(0, len(feats), batch_size):
        prefix, prefix_mask = decoder.project(feats[start:start + batch_size].to(device),
                                              valid[start:start + batch_size].to(device))
        b = prefix.shape[0]
        ids = torch.zeros(b, 0, dtype=torch.int64, device=device)
        done = torch.zeros(b, dtype=torch.bool, device=device)
        for _ in range(max_new_tokens):
            mask = torch.ones_like(ids, dtype=torch.bool)
            nxt = decoder.logits(prefix, prefix_mask, ids, mask)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
            ids = torch.cat([ids, nxt[:, None]], dim=1)
            done |= nxt == eos
            if bool(done.all()):
                break
        for row in ids.tolist():
            row = row[:row.index(eos)] if eos in row else row
            out.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return out
