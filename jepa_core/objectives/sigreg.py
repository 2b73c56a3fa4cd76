"""SIGReg: the Epps-Pulley normality test on random 1-D slices of the embeddings.

Sketched Isotropic Gaussian Regularization pushes the embedding distribution towards an
isotropic standard Gaussian, which rules out collapse without a teacher or a
stop-gradient. The embeddings are projected on ``num_slices`` random unit directions
(Cramer-Wold: a distribution is Gaussian iff all its 1-D projections are); each slice's
empirical characteristic function (ECF) is compared with ``exp(-t^2/2)`` by the
Epps-Pulley statistic

    T = N * integral over t of |ECF(t) - exp(-t^2/2)|^2 * exp(-t^2/2) dt

integrated on ``[-t_max, t_max]`` by the trapezoid rule on ``num_knots`` knots of
``[0, t_max]`` (the integrand is even, so the half-line weights are doubled). ``N`` is the
number of samples of the global batch; the result is the mean over slices.

The slices are redrawn every step from a ``torch.Generator`` seeded by ``(seed, step)``,
so all ranks use the same directions with no communication, and a resumed run draws the
same ones. Under ``torchrun`` the ECF (a mean over samples) is summed over ranks with
gradient, so the statistic is the one of the global batch.

Papers: Balestriero & LeCun, "LeJEPA: Provable and Scalable Self-Supervised Learning
Without the Heuristics" (2025); Maes et al., "LeWorldModel" (2026).
"""

from __future__ import annotations

import torch
from torch import Tensor

from jepa_core.objectives._distributed import global_count, global_sum
from jepa_core.objectives.base import Regularizer
from jepa_core.objectives.vicreg import masked_rows

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def slice_seed(seed: int, step: int) -> int:
    """A 63-bit generator seed mixed from ``(seed, step)``; distinct pairs don't collide in practice.

    Examples:
        >>> slice_seed(0, 1) == slice_seed(0, 1), slice_seed(0, 1) == slice_seed(0, 2)
        (True, False)
    """
    return _splitmix64(_splitmix64(int(seed) & _MASK64) ^ (int(step) & _MASK64)) >> 1


def random_slices(dim: int, num_slices: int, seed: int, step: int,
                  device: torch.device | str | None = None,
                  dtype: torch.dtype = torch.float32) -> Tensor:
    """Unit-norm random directions, the same for the same ``(seed, step)`` on every device.

    They are drawn on the CPU (so CPU and CUDA ranks agree bit for bit) and then moved.

    Args:
        dim: Embedding width ``D``.
        num_slices: Number of directions ``S``.
        seed: Run seed.
        step: Training step; a new step gives new directions.
        device: Where to put the result.
        dtype: Its dtype.

    Returns:
        Directions as columns.

    Shapes:
        output: ``[D, S]``, each column of norm 1.

    Examples:
        >>> a = random_slices(8, 4, seed=0, step=3)
        >>> a.shape, torch.allclose(a.norm(dim=0), torch.ones(4))
        (torch.Size([8, 4]), True)
    """
    if dim < 1 or num_slices < 1:
        raise ValueError(f"dim and num_slices must be >= 1, got dim={dim}, num_slices={num_slices}")
    g = torch.Generator(device="cpu")
    g.manual_seed(slice_seed(seed, step))
    a = torch.randn(dim, num_slices, generator=g, dtype=torch.float32)
    a = a / a.norm(dim=0, keepdim=True)
    return a.to(device=device, dtype=dtype)


def epps_pulley_knots(num_knots: int = 17, t_max: float = 3.0,
                      device: torch.device | str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Knots, target characteristic function and quadrature weights of the statistic.

    Args:
        num_knots: Number of knots on ``[0, t_max]`` (at least 2).
        t_max: Upper end of the integration range.
        device: Where to put the tensors.

    Returns:
        ``(t, phi, weights)``: the knots, ``phi = exp(-t^2/2)`` (the standard normal's
        characteristic function) and the trapezoid weights doubled for the negative
        half-line, times the Gaussian window ``exp(-t^2/2)``.

    Shapes:
        each: ``[num_knots]``.

    Examples:
        >>> t, phi, w = epps_pulley_knots(3, 2.0)
        >>> t.tolist(), w[0].item()
        ([0.0, 1.0, 2.0], 1.0)
    """
    if num_knots < 2:
        raise ValueError(f"num_knots must be >= 2, got {num_knots}")
    if not t_max > 0:
        raise ValueError(f"t_max must be > 0, got {t_max}")
    t = torch.linspace(0.0, t_max, num_knots, dtype=torch.float32, device=device)
    dt = t_max / (num_knots - 1)
    weights = torch.full((num_knots,), 2.0 * dt, dtype=torch.float32, device=device)
    weights[0] = weights[-1] = dt
    phi = torch.exp(-0.5 * t.square())
    return t, phi, weights * phi


def epps_pulley(x: Tensor, num_knots: int = 17, t_max: float = 3.0, *, sync: bool = True,
                mask: Tensor | None = None) -> Tensor:
    """Epps-Pulley statistic of each column of ``x`` against a standard normal.

    Args:
        x: Samples, one column per 1-D distribution to test.
        num_knots: Trapezoid knots on ``[0, t_max]``.
        t_max: Integration range.
        sync: Pool the samples of all ranks when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        The statistic per column (float32), ``N * integral |ECF - phi|^2 w`` with ``N``
        the global number of rows. About 1 for Gaussian samples (its null expectation),
        of order ``N`` for collapsed ones.

    Shapes:
        x: ``[n, S]``; output: ``[S]``.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> gauss = epps_pulley(torch.randn(4096, 1, generator=g))
        >>> collapsed = epps_pulley(torch.zeros(4096, 1))
        >>> bool(gauss < 3.0), bool(collapsed > 100.0)
        (True, True)
    """
    if x.dim() != 2:
        raise ValueError(f"expected samples [n, S], got shape {tuple(x.shape)}")
    t, phi, weights = epps_pulley_knots(num_knots, t_max, device=x.device)
    x, count = masked_rows(x, mask)
    xt = x.unsqueeze(-1) * t  # [n, S, K]
    cos = xt.cos()
    if mask is not None:  # a zeroed row would add cos(0) = 1
        cos = torch.where(mask.to(x.device)[:, None, None], cos, cos.new_zeros(()))
    sums = global_sum(torch.stack([cos.sum(0), xt.sin().sum(0)]), sync)  # [2, S, K]
    n = global_count(count, x.device, sync)
    ecf = sums / n.clamp_min(1.0)
    err = (ecf[0] - phi).square() + ecf[1].square()  # [S, K]
    return (err @ weights) * n


def sigreg(z: Tensor, num_slices: int = 256, seed: int = 0, step: int = 0,
           num_knots: int = 17, t_max: float = 3.0, *, sync: bool = True,
           mask: Tensor | None = None) -> Tensor:
    """SIGReg loss: mean Epps-Pulley statistic of ``z`` over random 1-D slices.

    Args:
        z: Embeddings to regularize (valid tokens only, flattened).
        num_slices: Number of random directions.
        seed: Run seed; with ``step`` it fixes the directions (same on every rank).
        step: Training step; the directions change every step.
        num_knots: Trapezoid knots on ``[0, t_max]`` (17 in LeJEPA / LeWM).
        t_max: Integration range (3 in LeJEPA / LeWM).
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool), e.g. the valid context tokens; ``None``: all rows.

    Returns:
        A scalar float32 tensor, differentiable w.r.t. ``z``; computed in float32 with
        autocast off, whatever the input dtype.

    Shapes:
        z: ``[n, D]``.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> z = torch.randn(2048, 16, generator=g)
        >>> bool(sigreg(z, 64, seed=0, step=0) < 3.0)
        True
        >>> bool(sigreg(torch.ones(2048, 16), 64, seed=0, step=0) > 100.0)
        True
    """
    if z.dim() != 2:
        raise ValueError(f"sigreg expects embeddings [n, D], got shape {tuple(z.shape)}")
    if num_slices < 1:
        raise ValueError(f"num_slices must be >= 1, got {num_slices}")
    directions = random_slices(z.shape[1], num_slices, seed, step, device=z.device)
    with torch.autocast(z.device.type, enabled=False):  # the ECF needs fp32 even under AMP
        z, _ = masked_rows(z, mask)
        return epps_pulley(z @ directions, num_knots, t_max, sync=sync, mask=mask).mean()


class SIGReg(Regularizer):
    """Module shell around :func:`sigreg` holding the slice count and quadrature.

    Args:
        num_slices: Number of random directions per step.
        num_knots: Trapezoid knots on ``[0, t_max]``.
        t_max: Integration range.

    Examples:
        >>> reg = SIGReg(num_slices=32)
        >>> z = torch.randn(512, 8, generator=torch.Generator().manual_seed(1))
        >>> bool(reg(z, seed=0, step=5) < 3.0)
        True
    """

    def __init__(self, num_slices: int = 256, num_knots: int = 17, t_max: float = 3.0) -> None:
        super().__init__()
        if num_slices < 1:
            raise ValueError(f"num_slices must be >= 1, got {num_slices}")
        epps_pulley_knots(num_knots, t_max)  # validates
        self.num_slices = num_slices
        self.num_knots = num_knots
        self.t_max = t_max

    def forward(self, z: Tensor, *, mask: Tensor | None = None, seed: int = 0, step: int = 0,
                sync: bool = True) -> Tensor:
        return sigreg(z, self.num_slices, seed, step, self.num_knots, self.t_max, sync=sync, mask=mask)

    def extra_repr(self) -> str:
        return f"num_slices={self.num_slices}, num_knots={self.num_knots}, t_max={self.t_max}"
