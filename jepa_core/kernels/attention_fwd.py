"""Forward kernel of fused masked attention (FlashAttention-2 online softmax).

Each program owns ``BLOCK_M`` queries of one (batch, head) and streams the keys in
blocks of ``BLOCK_N``, keeping a running max ``m``, normaliser ``l`` and output
accumulator in registers. Scores live in log2 units (``qk_scale`` folds in
``log2(e)``) so the exponentials are ``exp2``. Only ``O`` and the per-row logsumexp
(``O(N)``) are written; the ``N x N`` score matrix never exists.

Key validity is read per key block: keys past the last valid key of the sample are not
visited at all (``KV_END``), and with ``SKIP_EMPTY`` a block with no valid key is
skipped without loading its keys or values. A query row with no valid key gets zeros
and a logsumexp of 0.
"""

from __future__ import annotations

import triton
import triton.language as tl

from .attention_configs import AUTOTUNE_KEY, fwd_configs, prune


@triton.jit
def _fwd_block(acc, l_i, m_i, q, k_base, v_base, cols, in_range, keep, offs_d, d_ok,
               stride_kn, stride_kd, stride_vn, stride_vd, qk_scale,
               DOT_PREC: tl.constexpr):
    """One key block of the online softmax: update ``acc``, ``l``, ``m``."""
    k_t = tl.load(k_base + cols[None, :] * stride_kn + offs_d[:, None] * stride_kd,
                  mask=in_range[None, :] & d_ok[:, None], other=0.0)
    s = tl.dot(q, k_t, input_precision=DOT_PREC) * qk_scale
    s = tl.where(keep[None, :], s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))
    # A row that has seen no valid key yet keeps m = -inf; shift by 0 so no inf - inf.
    m_shift = tl.where(m_new == float("-inf"), 0.0, m_new)
    p = tl.exp2(s - m_shift[:, None])
    alpha = tl.exp2(m_i - m_shift)
    l_i = l_i * alpha + tl.sum(p, 1)
    v = tl.load(v_base + cols[:, None] * stride_vn + offs_d[None, :] * stride_vd,
                mask=in_range[:, None] & d_ok[None, :], other=0.0)
    acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=DOT_PREC)
    return acc, l_i, m_new


@triton.jit
def _fwd_inner(acc, l_i, m_i, q, k_base, v_base, valid_base, kv_end, offs_n, offs_d, d_ok,
               stride_kn, stride_kd, stride_vn, stride_vd, qk_scale,
               HAS_MASK: tl.constexpr, SKIP_EMPTY: tl.constexpr, BLOCK_N: tl.constexpr,
               DOT_PREC: tl.constexpr):
    """Stream the key blocks ``[0, kv_end)`` through :func:`_fwd_block`."""
    for start_n in range(0, kv_end, BLOCK_N):
        cols = start_n + offs_n
        in_range = cols < kv_end
        keep = in_range
        if HAS_MASK:
            keep = keep & (tl.load(valid_base + cols, mask=in_range, other=0) != 0)
        if SKIP_EMPTY:
            if tl.max(keep.to(tl.int32), 0) > 0:
                acc, l_i, m_i = _fwd_block(acc, l_i, m_i, q, k_base, v_base, cols, in_range, keep,
                                           offs_d, d_ok, stride_kn, stride_kd, stride_vn, stride_vd,
                                           qk_scale, DOT_PREC)
        else:
            acc, l_i, m_i = _fwd_block(acc, l_i, m_i, q, k_base, v_base, cols, in_range, keep,
                                       offs_d, d_ok, stride_kn, stride_kd, stride_vn, stride_vd,
                                       qk_scale, DOT_PREC)
    return acc, l_i, m_i


@triton.autotune(configs=fwd_configs(), key=AUTOTUNE_KEY, prune_configs_by={"early_config_prune": prune})
@triton.jit
def masked_attention_fwd_kernel(
        Q, K, V, VALID, KV_END, O, LSE,
        stride_qb, stride_qh, stride_qn, stride_qd,
        stride_kb, stride_kh, stride_kn, stride_kd,
        stride_vb, stride_vh, stride_vn, stride_vd,
        stride_ob, stride_oh, stride_on, stride_od,
        stride_valid_b, H, N_Q, N_K, qk_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, HAS_MASK: tl.constexpr,
        SKIP_EMPTY: tl.constexpr, DOT_PREC: tl.constexpr, ACC_DTYPE: tl.constexpr,
        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """``O = softmax(Q K^T * scale, over valid keys) V`` and ``LSE`` (log2 units).

    Grid: ``(cdiv(N_Q, BLOCK_M), B * H)``. ``VALID`` is ``[B, N_K]`` uint8 and
    ``KV_END`` ``[B]`` int32 (one past the last valid key), both read only with
    ``HAS_MASK``. ``LSE`` is contiguous ``[B, H, N_Q]``.
    """
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // H
    h = pid_bh % H
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    m_ok = offs_m < N_Q
    d_ok = offs_d < HEAD_DIM

    q_base = Q + b.to(tl.int64) * stride_qb + h.to(tl.int64) * stride_qh
    k_base = K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh
    v_base = V + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh
    q = tl.load(q_base + offs_m[:, None] * stride_qn + offs_d[None, :] * stride_qd,
                mask=m_ok[:, None] & d_ok[None, :], other=0.0)

    valid_base = VALID + b.to(tl.int64) * stride_valid_b
    if HAS_MASK:
        # A reduction gives a true scalar (also under the interpreter) for the loop bound.
        kv_end = tl.sum(tl.load(KV_END + b + tl.arange(0, 1)), 0)
    else:
        kv_end = N_K

    m_i = tl.full([BLOCK_M], float("-inf"), dtype=ACC_DTYPE)
    l_i = tl.zeros([BLOCK_M], dtype=ACC_DTYPE)
    acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=ACC_DTYPE)
    acc, l_i, m_i = _fwd_inner(acc, l_i, m_i, q, k_base, v_base, valid_base, kv_end, offs_n, offs_d,
                               d_ok, stride_kn, stride_kd, stride_vn, stride_vd, qk_scale,
                               HAS_MASK, SKIP_EMPTY, BLOCK_N, DOT_PREC)

    seen = l_i > 0
    l_safe = tl.where(seen, l_i, 1.0)
    out = tl.where(seen[:, None], acc / l_safe[:, None], 0.0)
    lse = tl.where(seen, m_i + tl.log2(l_safe), 0.0)
    o_base = O + b.to(tl.int64) * stride_ob + h.to(tl.int64) * stride_oh
    tl.store(o_base + offs_m[:, None] * stride_on + offs_d[None, :] * stride_od,
             out.to(O.dtype.element_ty), mask=m_ok[:, None] & d_ok[None, :])
    tl.store(LSE + pid_bh.to(tl.int64) * N_Q + offs_m, lse, mask=m_ok)
