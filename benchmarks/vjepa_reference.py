"""A faithful eager re-implementation of one V-JEPA training step, the baseline of bench_video.py.

Follows facebookresearch/jepa (``src/masks/multiblock3d.py``, ``src/models/vision_transformer.py``,
``src/models/predictor.py``, ``app/vjepa/train.py``): a per-sample Python mask collator for
each of the two mask families (blocks of a spatial scale spanning the whole clip; the
context is the complement of their union; every mask of a batch cut to the shortest one),
a ViT with a Conv3d tubelet embedding and eager softmax attention, the predictor run once
per mask family on the context plus mask tokens at the target positions, L1 loss on
layer-normed teacher features averaged over the families, AdamW and the
parameter-by-parameter EMA update. Written from the paper's description and settings,
not imported from its code.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from jepa_core.models.positions import sincos_positions


#: V-JEPA's two families: (blocks, spatial scale).
FAMILIES = ((8, 0.15), (2, 0.7))


class MaskCollator3D:
    """V-JEPA's 3-D multiblock collator: per family a block size per batch, blocks per sample."""

    def __init__(self, grid: tuple[int, int, int], families=FAMILIES, aspect=(0.75, 1.5),
                 min_keep: int = 4) -> None:
        self.t, self.h, self.w = grid
        self.families, self.aspect, self.min_keep = families, aspect, min_keep
        self._itr = 0

    def _block_size(self, g, scale):
        r = torch.rand(1, generator=g).item()
        keep = int(self.h * self.w * scale)
        ar = math.exp(math.log(self.aspect[0]) + r * (math.log(self.aspect[1]) - math.log(self.aspect[0])))
        h = min(max(int(round(math.sqrt(keep * ar))), 1), self.h)
        w = min(max(int(round(math.sqrt(keep / ar))), 1), self.w)
        return h, w

    def _sample_mask(self, size, blocks):
        h, w = size
        while True:
            mask = torch.ones((self.t, self.h, self.w), dtype=torch.int32)
            for _ in range(blocks):
                top = torch.randint(0, self.h - h + 1, (1,))
                left = torch.randint(0, self.w - w + 1, (1,))
                mask[:, top:top + h, left:left + w] = 0  # full temporal extent
            ctx = torch.nonzero(mask.flatten()).squeeze(-1)
            if len(ctx) >= self.min_keep:
                break
        pred = torch.nonzero((1 - mask).flatten()).squeeze(-1)
        return ctx, pred

    def __call__(self, batch_size: int):
        g = torch.Generator()
        g.manual_seed(self._itr)
        self._itr += 1
        encs, preds = [], []
        for blocks, scale in self.families:
            size = self._block_size(g, scale)
            ctxs, prds = zip(*(self._sample_mask(size, blocks) for _ in range(batch_size)))
            kc, kp = min(len(c) for c in ctxs), min(len(p) for p in prds)
            encs.append(torch.stack([c[:kc] for c in ctxs]))
            preds.append(torch.stack([p[:kp] for p in prds]))
        return encs, preds


def gather(x, idx):
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.size(-1)))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, dim * 3), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1, self.attn, self.norm2 = nn.LayerNorm(dim), Attention(dim, heads), nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VideoViT(nn.Module):
    def __init__(self, grid, tubelet, patch, dim, depth, heads, mlp_ratio=4.0):
        super().__init__()
        self.patch_embed = nn.Conv3d(3, dim, (tubelet, patch, patch), (tubelet, patch, patch))
        self.register_buffer("pos", sincos_positions(grid, dim)[None])
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, clips, masks=None):
        x = self.patch_embed(clips).flatten(2).transpose(1, 2) + self.pos
        outs = []
        for m in (masks if masks is not None else [None]):
            h = x if m is None else gather(x, m)
            for blk in self.blocks:
                h = blk(h)
            outs.append(self.norm(h))
        return outs


class Predictor(nn.Module):
    def __init__(self, grid, dim, pdim, depth, heads, mlp_ratio=4.0):
        super().__init__()
        self.embed = nn.Linear(dim, pdim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, pdim))
        self.register_buffer("pos", sincos_positions(grid, pdim)[None])
        self.blocks = nn.ModuleList(Block(pdim, heads, mlp_ratio) for _ in range(depth))
        self.norm, self.proj = nn.LayerNorm(pdim), nn.Linear(pdim, dim)

    def forward(self, z, ctx, tgt):
        b = len(z)
        pos = self.pos.expand(b, -1, -1)
        x = self.embed(z) + gather(pos, ctx)
        pred = self.mask_token.expand(b, tgt.shape[1], -1) + gather(pos, tgt)
        x = torch.cat([x, pred], 1)
        for blk in self.blocks:
            x = blk(x)
        return self.proj(self.norm(x)[:, ctx.shape[1]:])


class VJepaStep:
    """Encoder, EMA teacher, predictor, AdamW and the step of V-JEPA's ``train.py``."""

    def __init__(self, grid, tubelet, patch, dim, depth, heads, pdim, pdepth, pheads, mlp_ratio=4.0,
                 device="cpu"):
        self.encoder = VideoViT(grid, tubelet, patch, dim, depth, heads, mlp_ratio).to(device)
        self.predictor = Predictor(grid, dim, pdim, pdepth, pheads, mlp_ratio).to(device)
        self.target = copy.deepcopy(self.encoder).requires_grad_(False)
        self.opt = torch.optim.AdamW(list(self.encoder.parameters()) + list(self.predictor.parameters()),
                                     lr=1e-4, weight_decay=0.04)
        self.collator = MaskCollator3D(grid)
        self.device = device

    def masks(self, batch_size):
        encs, preds = self.collator(batch_size)
        return [m.to(self.device) for m in encs], [m.to(self.device) for m in preds]

    def step(self, clips, masks_enc, masks_pred, momentum=0.998):
        with torch.no_grad():
            h = self.target(clips)[0]
            h = F.layer_norm(h, (h.size(-1),))
        zs = self.encoder(clips, masks_enc)
        loss = 0.0
        for z, ctx, tgt in zip(zs, masks_enc, masks_pred):
            loss = loss + torch.mean(torch.abs(self.predictor(z, ctx, tgt) - gather(h, tgt)))
        loss = loss / len(zs)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for q, k in zip(self.encoder.parameters(), self.target.parameters()):
                k.data.mul_(momentum).add_((1.0 - momentum) * q.detach().data)
        return loss
