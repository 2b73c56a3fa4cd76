"""A faithful eager re-implementation of one I-JEPA training step, the baseline of bench_image.py.

Follows facebookresearch/ijepa (``src/masks/multiblock.py``, ``src/models/vision_transformer.py``,
``src/train.py``): the per-sample Python ``MaskCollator`` that cuts every mask to the
shortest one in the batch, a ViT with eager softmax attention, the predictor that repeats
the context once per target block, smooth-L1 on layer-normed teacher features and the
parameter-by-parameter EMA update. Written from the paper's code, not imported from it.

``keep_all=True`` is the same step without the truncation: every sample keeps its whole
context, padded to the longest with a key mask in the eager attention (what the engine
computes), so the benchmark can also compare the two at equal work.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from jepa_core.models.positions import sincos_positions


class MaskCollator:
    """I-JEPA's multiblock mask collator (one context block, ``npred`` target blocks)."""

    def __init__(self, grid: int, enc_scale=(0.85, 1.0), pred_scale=(0.15, 0.2),
                 aspect=(0.75, 1.5), nenc: int = 1, npred: int = 4, min_keep: int = 4,
                 keep_all: bool = False) -> None:
        self.height = self.width = grid
        self.keep_all = keep_all
        self.enc_scale, self.pred_scale, self.aspect = enc_scale, pred_scale, aspect
        self.nenc, self.npred, self.min_keep = nenc, npred, min_keep
        self._itr = 0

    def _block_size(self, g, scale, aspect):
        r = torch.rand(1, generator=g).item()
        keep = int(self.height * self.width * (scale[0] + r * (scale[1] - scale[0])))
        ar = aspect[0] + r * (aspect[1] - aspect[0])
        h, w = int(round(math.sqrt(keep * ar))), int(round(math.sqrt(keep / ar)))
        while h >= self.height:
            h -= 1
        while w >= self.width:
            w -= 1
        return h, w

    def _block_mask(self, size, acceptable=None):
        h, w = size
        tries, timeout = 0, 20
        while True:
            top = torch.randint(0, self.height - h, (1,))
            left = torch.randint(0, self.width - w, (1,))
            mask = torch.zeros((self.height, self.width), dtype=torch.int32)
            mask[top:top + h, left:left + w] = 1
            if acceptable is not None:
                for k in range(max(len(acceptable) - tries, 0)):
                    mask *= acceptable[k]
            idx = torch.nonzero(mask.flatten())
            if len(idx) > self.min_keep:
                break
            timeout -= 1
            if timeout == 0:
                tries, timeout = tries + 1, 20
        comp = torch.ones((self.height, self.width), dtype=torch.int32)
        comp[top:top + h, left:left + w] = 0
        return idx.squeeze(), comp

    def __call__(self, batch_size: int):
        g = torch.Generator()
        g.manual_seed(self._itr)
        self._itr += 1
        p_size = self._block_size(g, self.pred_scale, self.aspect)
        e_size = self._block_size(g, self.enc_scale, (1.0, 1.0))
        preds, encs = [], []
        min_pred = min_enc = self.height * self.width
        for _ in range(batch_size):
            masks_p, comps = [], []
            for _ in range(self.npred):
                m, c = self._block_mask(p_size)
                masks_p.append(m)
                comps.append(c)
                min_pred = min(min_pred, len(m))
            preds.append(masks_p)
            masks_e = []
            for _ in range(self.nenc):
                m, _ = self._block_mask(e_size, acceptable=comps)
                masks_e.append(m)
                min_enc = min(min_enc, len(m))
            encs.append(masks_e)
        preds = torch.utils.data.default_collate([[m[:min_pred] for m in ms] for ms in preds])
        if self.keep_all:  # pad every context to the longest, with its validity
            longest = max(len(m) for ms in encs for m in ms)
            valid = [torch.arange(longest) < len(ms[0]) for ms in encs]
            padded = [torch.cat([ms[0], ms[0].new_zeros(longest - len(ms[0]))]) for ms in encs]
            return ([torch.stack(padded)], torch.stack(valid)), preds
        encs = torch.utils.data.default_collate([[m[:min_enc] for m in ms] for ms in encs])
        return encs, preds


def apply_masks(x, masks):
    return torch.cat([torch.gather(x, 1, m.unsqueeze(-1).repeat(1, 1, x.size(-1))) for m in masks], 0)


def repeat_interleave_batch(x, b, repeat):
    n = len(x) // b
    return torch.cat([torch.cat([x[i * b:(i + 1) * b] for _ in range(repeat)], 0) for i in range(n)], 0)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, dim * 3), nn.Linear(dim, dim)

    def forward(self, x, valid=None):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        if valid is not None:
            attn = attn.masked_fill(~valid[:, None, None, :], float("-inf"))
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1, self.attn, self.norm2 = nn.LayerNorm(dim), Attention(dim, heads), nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x, valid=None):
        x = x + self.attn(self.norm1(x), valid)
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, image_size, patch, dim, depth, heads, mlp_ratio=4.0):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        grid = image_size // patch
        self.register_buffer("pos", sincos_positions((grid, grid), dim)[None])
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x, masks=None, valid=None):
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos
        if masks is not None:
            x = apply_masks(x, masks)
        for blk in self.blocks:
            x = blk(x, valid)
        return self.norm(x)


class Predictor(nn.Module):
    def __init__(self, grid, dim, pdim, depth, heads, mlp_ratio=4.0):
        super().__init__()
        self.embed = nn.Linear(dim, pdim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, pdim))
        self.register_buffer("pos", sincos_positions((grid, grid), pdim)[None])
        self.blocks = nn.ModuleList(Block(pdim, heads, mlp_ratio) for _ in range(depth))
        self.norm, self.proj = nn.LayerNorm(pdim), nn.Linear(pdim, dim)

    def forward(self, x, masks_x, masks, valid=None):
        b = len(x) // len(masks_x)
        x = self.embed(x)
        pos = self.pos.repeat(b, 1, 1)
        x = x + apply_masks(pos, masks_x)
        n_ctx = x.shape[1]
        pos_m = repeat_interleave_batch(apply_masks(pos, masks), b, repeat=len(masks_x))
        pred = self.mask_token.repeat(pos_m.size(0), pos_m.size(1), 1) + pos_m
        x = torch.cat([x.repeat(len(masks), 1, 1), pred], 1)
        if valid is not None:
            valid = torch.cat([valid.repeat(len(masks), 1), valid.new_ones(pred.shape[:2])], 1)
        for blk in self.blocks:
            x = blk(x, valid)
        return self.proj(self.norm(x)[:, n_ctx:])


class IJepaStep:
    """Encoder, EMA teacher, predictor, AdamW and the step of I-JEPA's ``train.py``."""

    def __init__(self, image_size, patch, dim, depth, heads, pdim, pdepth, pheads, mlp_ratio=4.0,
                 device="cpu", min_keep=4, keep_all=False):
        import copy

        grid = image_size // patch
        self.encoder = ViT(image_size, patch, dim, depth, heads, mlp_ratio).to(device)
        self.predictor = Predictor(grid, dim, pdim, pdepth, pheads, mlp_ratio).to(device)
        self.target = copy.deepcopy(self.encoder).requires_grad_(False)
        self.opt = torch.optim.AdamW(list(self.encoder.parameters()) + list(self.predictor.parameters()),
                                     lr=1e-4, weight_decay=0.04)
        self.collator = MaskCollator(grid, min_keep=min_keep, keep_all=keep_all)
        self.device = device

    def masks(self, batch_size):
        encs, preds = self.collator(batch_size)
        preds = [m.to(self.device) for m in preds]
        if self.collator.keep_all:
            encs, valid = encs
            return ([m.to(self.device) for m in encs], valid.to(self.device)), preds
        return [m.to(self.device) for m in encs], preds

    def step(self, imgs, masks_enc, masks_pred, momentum=0.996):
        valid = None
        if isinstance(masks_enc, tuple):  # keep_all: (padded contexts, their validity)
            masks_enc, valid = masks_enc
        with torch.no_grad():
            h = self.target(imgs)
            h = F.layer_norm(h, (h.size(-1),))
            h = repeat_interleave_batch(apply_masks(h, masks_pred), len(h), repeat=len(masks_enc))
        z = self.predictor(self.encoder(imgs, masks_enc, valid), masks_enc, masks_pred, valid)
        loss = F.smooth_l1_loss(z, h)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for q, k in zip(self.encoder.parameters(), self.target.parameters()):
                k.data.mul_(momentum).add_((1.0 - momentum) * q.detach().data)
        return loss
