"""Run under torchrun (gloo, CPU): the objectives on W ranks equal one process on the whole batch.

Every rank builds the same global data, keeps its own shard (ranks hold *different*
numbers of embedding rows and of valid tokens), and checks for each term that

- the loss on every rank equals the single-process loss on the concatenated batch, and
- the gradient w.r.t. the rank's shard equals ``world_size *`` the matching slice of the
  single-process gradient, so DDP's gradient averaging recovers the single-process
  parameter gradient exactly.

The single-process reference is computed in each rank with ``sync=False`` on the full
data. Prints ``OK rank R`` on success; any mismatch raises (non-zero exit).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from jepa_core.objectives import (
    Objective,
    latent_loss,
    masked_moments,
    sigreg,
    variance_hinge,
    vicreg_covariance,
    vicreg_variance,
)


def _check(name: str, fn, full: list[torch.Tensor], shards: list[slice], world: int, **kw) -> None:
    """``fn(*tensors, sync=...)`` on the shards (synced) vs on the full tensors (local)."""
    ref_in = [t.clone().requires_grad_(t.is_floating_point() and i == 0) for i, t in enumerate(full)]
    ref = fn(*ref_in, sync=False, **kw.get("ref_kw", {}))
    ref.backward()
    loc_in = [t[s].clone().requires_grad_(t.is_floating_point() and i == 0)
              for i, (t, s) in enumerate(zip(full, shards))]
    out = fn(*loc_in, sync=True, **kw.get("loc_kw", {}))
    out.backward()
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6, msg=lambda m: f"{name} loss: {m}")
    torch.testing.assert_close(loc_in[0].grad, world * ref_in[0].grad[shards[0]], rtol=1e-4, atol=1e-6,
                               msg=lambda m: f"{name} grad: {m}")


def main() -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    g = torch.Generator().manual_seed(1234)

    # latent: [B, M, K, D] with validity and soft weights; ranks split the batch evenly,
    # but their number (and total weight) of valid tokens differ.
    b, d = 3, 8
    pred = torch.randn(world * b, 2, 5, d, generator=g)
    target = torch.randn(world * b, 2, 5, d, generator=g)
    weight = (torch.rand(world * b, 2, 5, generator=g) > 0.4).float() * torch.rand(world * b, 2, 5, generator=g)
    weight[:b] *= (torch.arange(5) < 2).float()  # rank 0 keeps far fewer tokens
    bs = slice(rank * b, (rank + 1) * b)
    for kind in ("l2", "smooth_l1", "l1", "cosine"):
        _check(f"latent[{kind}]", lambda p, t, w, sync: latent_loss(p, t, w, kind, sync=sync),
               [pred, target, weight], [bs, bs, bs], world)

    # regularizers: ragged [n_r, D] shards (rank r holds 5 + 4 r rows).
    counts = [5 + 4 * r for r in range(world)]
    offsets = [sum(counts[:r]) for r in range(world + 1)]
    z = torch.randn(offsets[-1], d, generator=g) * torch.linspace(0.3, 1.5, d) + 0.2
    zs = slice(offsets[rank], offsets[rank + 1])
    _check("sigreg", lambda x, sync: sigreg(x, 32, seed=5, step=9, sync=sync), [z], [zs], world)
    _check("vicreg_var", lambda x, sync: vicreg_variance(x, sync=sync), [z], [zs], world)
    _check("vicreg_cov", lambda x, sync: vicreg_covariance(x, sync=sync), [z], [zs], world)
    _check("variance_hinge", lambda x, sync: variance_hinge(x, 1.2, sync=sync), [z], [zs], world)

    # the masked mean/variance behind the targets' standardization: [B, N, D] with validity
    zt = torch.randn(world * b, 5, d, generator=g) * 2.0 + 3.0
    valid = (torch.rand(world * b, 5, 1, generator=g) > 0.3).float()
    _check("masked_moments", lambda x, w, sync: sum(t.square().sum() for t in
                                                    masked_moments(x, w, sync=sync)[:2]),
           [zt, valid], [bs, bs], world)

    # the whole objective, every term enabled
    kw = dict(loss="smooth_l1", sigreg=0.3, sigreg_slices=32, vicreg_variance=1.0,
              vicreg_covariance=0.04, variance_hinge=2.0, hinge_gamma=0.7)
    ref_pred, ref_z = pred.clone().requires_grad_(True), z.clone().requires_grad_(True)
    ref_total, ref_parts = Objective(**kw, sync=False)(ref_pred, target, weight, ref_z, seed=1, step=2)
    ref_total.backward()
    loc_pred, loc_z = pred[bs].clone().requires_grad_(True), z[zs].clone().requires_grad_(True)
    total, parts = Objective(**kw)(loc_pred, target[bs], weight[bs], loc_z, seed=1, step=2)
    total.backward()
    torch.testing.assert_close(total, ref_total, rtol=1e-5, atol=1e-6)
    assert parts.keys() == ref_parts.keys()
    for k in parts:
        assert abs(parts[k] - ref_parts[k]) <= 1e-5 * max(1.0, abs(ref_parts[k])), (k, parts[k], ref_parts[k])
    torch.testing.assert_close(loc_pred.grad, world * ref_pred.grad[bs], rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(loc_z.grad, world * ref_z.grad[zs], rtol=1e-4, atol=1e-6)

    # DDP's average of the rank gradients of a shared parameter is the single-process gradient
    w = torch.randn(d, d, generator=g)
    ref_w = w.clone().requires_grad_(True)
    (Objective(**kw, sync=False)(pred, target, weight, z @ ref_w, seed=1, step=3)[0]).backward()
    loc_w = w.clone().requires_grad_(True)
    Objective(**kw)(pred[bs], target[bs], weight[bs], z[zs] @ loc_w, seed=1, step=3)[0].backward()
    grad = loc_w.grad.clone()
    dist.all_reduce(grad)
    torch.testing.assert_close(grad / world, ref_w.grad, rtol=1e-4, atol=1e-6)

    print(f"OK rank {rank}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
