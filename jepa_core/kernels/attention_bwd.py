"""Backward kernels of fused masked attention (FlashAttention-2 style, two passes).

With ``P = exp(S - lse)`` recomputed from the saved logsumexp and
``delta_i = sum_d dO_i * O_i`` (:func:`masked_attention_bwd_preprocess_kernel`):

* ``dV = P^T dO`` and ``dK = scale * dS^T Q``, with ``dS = P * (dO V^T - delta)``, in
  :func:`masked_attention_bwd_dkdv_kernel`: one program per key block, looping over
  queries; a block with no valid key writes zeros without loading anything else.
* ``dQ = scale * dS K`` in :func:`masked_attention_bwd_dq_kernel`: one program per query
  block, looping over the key blocks that hold a valid key.

Invalid keys have ``P = 0`` exactly, so they get zero gradients; rows without a valid
key have no ``P`` at all and get ``dQ = 0``.
"""

from __future__ import annotations

import triton
import triton.language as tl

from .attention_configs import AUTOTUNE_KEY, bwd_configs, prune


@triton.jit
def masked_attention_bwd_preprocess_kernel(O, DO, DELTA, stride_ob, stride_oh, stride_on, stride_od,
                                           stride_dob, stride_doh, stride_don, stride_dod, H, N_Q,
                                           HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr,
                                           ACC_DTYPE: tl.constexpr, BLOCK_M: tl.constexpr):
    """``DELTA[b, h, i] = sum_d O[b, h, i, d] * dO[b, h, i, d]``; grid ``(cdiv(N_Q, BLOCK_M), B * H)``."""
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = (pid_bh // H).to(tl.int64)
    h = (pid_bh % H).to(tl.int64)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    mask = (offs_m < N_Q)[:, None] & (offs_d < HEAD_DIM)[None, :]
    o = tl.load(O + b * stride_ob + h * stride_oh + offs_m[:, None] * stride_on + offs_d[None, :] * stride_od,
                mask=mask, other=0.0).to(ACC_DTYPE)
    do = tl.load(DO + b * stride_dob + h * stride_doh + offs_m[:, None] * stride_don
                 + offs_d[None, :] * stride_dod, mask=mask, other=0.0).to(ACC_DTYPE)
    tl.store(DELTA + pid_bh.to(tl.int64) * N_Q + offs_m, tl.sum(o * do, 1), mask=offs_m < N_Q)


@triton.jit
def _dkdv_inner(dk, dv, k, v, q_base, do_base, lse_base, delta_base, keep, offs_d, d_ok,
                stride_qn, stride_qd, stride_don, stride_dod, N_Q, qk_scale,
                BLOCK_M: tl.constexpr, DOT_PREC: tl.constexpr):
    """Accumulate one key block's ``dK`` (unscaled) and ``dV`` over all query blocks."""
    for start_m in range(0, N_Q, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        m_ok = offs_m < N_Q
        q_t = tl.load(q_base + offs_m[None, :] * stride_qn + offs_d[:, None] * stride_qd,
                      mask=m_ok[None, :] & d_ok[:, None], other=0.0)
        lse = tl.load(lse_base + offs_m, mask=m_ok, other=0.0)
        s_t = tl.dot(k, q_t, input_precision=DOT_PREC) * qk_scale
        s_t = tl.where(keep[:, None] & m_ok[None, :], s_t - lse[None, :], float("-inf"))
        p_t = tl.exp2(s_t)
        do = tl.load(do_base + offs_m[:, None] * stride_don + offs_d[None, :] * stride_dod,
                     mask=m_ok[:, None] & d_ok[None, :], other=0.0)
        dv += tl.dot(p_t.to(do.dtype), do, input_precision=DOT_PREC)
        dp_t = tl.dot(v, tl.trans(do), input_precision=DOT_PREC)
        delta = tl.load(delta_base + offs_m, mask=m_ok, other=0.0)
        ds_t = p_t * (dp_t - delta[None, :])
        dk += tl.dot(ds_t.to(q_t.dtype), tl.trans(q_t), input_precision=DOT_PREC)
    return dk, dv


@triton.autotune(configs=bwd_configs(), key=AUTOTUNE_KEY, prune_configs_by={"early_config_prune": prune})
@triton.jit
def masked_attention_bwd_dkdv_kernel(
        Q, K, V, DO, LSE, DELTA, VALID, DK, DV,
        stride_qb, stride_qh, stride_qn, stride_qd,
        stride_kb, stride_kh, stride_kn, stride_kd,
        stride_vb, stride_vh, stride_vn, stride_vd,
        stride_dob, stride_doh, stride_don, stride_dod,
        stride_dkb, stride_dkh, stride_dkn, stride_dkd,
        stride_dvb, stride_dvh, stride_dvn, stride_dvd,
        stride_valid_b, H, N_Q, N_K, scale, qk_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, HAS_MASK: tl.constexpr,
        DOT_PREC: tl.constexpr, ACC_DTYPE: tl.constexpr,
        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """``dK`` and ``dV`` for one block of ``BLOCK_N`` keys; grid ``(cdiv(N_K, BLOCK_N), B * H)``."""
    pid_n = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = (pid_bh // H).to(tl.int64)
    h = (pid_bh % H).to(tl.int64)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    n_ok = offs_n < N_K
    d_ok = offs_d < HEAD_DIM
    keep = n_ok
    if HAS_MASK:
        keep = keep & (tl.load(VALID + b * stride_valid_b + offs_n, mask=n_ok, other=0) != 0)

    dk = tl.zeros([BLOCK_N, BLOCK_D], dtype=ACC_DTYPE)
    dv = tl.zeros([BLOCK_N, BLOCK_D], dtype=ACC_DTYPE)
    if tl.max(keep.to(tl.int32), 0) > 0:
        kv_mask = n_ok[:, None] & d_ok[None, :]
        k = tl.load(K + b * stride_kb + h * stride_kh + offs_n[:, None] * stride_kn
                    + offs_d[None, :] * stride_kd, mask=kv_mask, other=0.0)
        v = tl.load(V + b * stride_vb + h * stride_vh + offs_n[:, None] * stride_vn
                    + offs_d[None, :] * stride_vd, mask=kv_mask, other=0.0)
        dk, dv = _dkdv_inner(dk, dv, k, v, Q + b * stride_qb + h * stride_qh,
                             DO + b * stride_dob + h * stride_doh, LSE + pid_bh.to(tl.int64) * N_Q,
                             DELTA + pid_bh.to(tl.int64) * N_Q, keep, offs_d, d_ok,
                             stride_qn, stride_qd, stride_don, stride_dod, N_Q, qk_scale,
                             BLOCK_M, DOT_PREC)
    out_mask = n_ok[:, None] & d_ok[None, :]
    tl.store(DK + b * stride_dkb + h * stride_dkh + offs_n[:, None] * stride_dkn + offs_d[None, :] * stride_dkd,
             (dk * scale).to(DK.dtype.element_ty), mask=out_mask)
    tl.store(DV + b * stride_dvb + h * stride_dvh + offs_n[:, None] * stride_dvn + offs_d[None, :] * stride_dvd,
             dv.to(DV.dtype.element_ty), mask=out_mask)


@triton.jit
def _dq_block(dq, q, do, lse, delta, k_base, v_base, cols, in_range, keep, m_ok, offs_d, d_ok,
              stride_kn, stride_kd, stride_vn, stride_vd, qk_scale, DOT_PREC: tl.constexpr):
    """One key block's contribution to ``dQ`` (unscaled)."""
    kv_mask = in_range[None, :] & d_ok[:, None]
    k_t = tl.load(k_base + cols[None, :] * stride_kn + offs_d[:, None] * stride_kd, mask=kv_mask, other=0.0)
    v_t = tl.load(v_base + cols[None, :] * stride_vn + offs_d[:, None] * stride_vd, mask=kv_mask, other=0.0)
    s = tl.dot(q, k_t, input_precision=DOT_PREC) * qk_scale
    s = tl.where(m_ok[:, None] & keep[None, :], s - lse[:, None], float("-inf"))
    p = tl.exp2(s)
    dp = tl.dot(do, v_t, input_precision=DOT_PREC)
    ds = p * (dp - delta[:, None])
    return dq + tl.dot(ds.to(k_t.dtype), tl.trans(k_t), input_precision=DOT_PREC)


@triton.jit
def _dq_inner(dq, q, do, lse, delta, k_base, v_base, valid_base, kv_end, offs_n, m_ok, offs_d, d_ok,
              stride_kn, stride_kd, stride_vn, stride_vd, qk_scale,
              HAS_MASK: tl.constexpr, SKIP_EMPTY: tl.constexpr, BLOCK_N: tl.constexpr,
              DOT_PREC: tl.constexpr):
    """Stream the key blocks ``[0, kv_end)`` through :func:`_dq_block`."""
    for start_n in range(0, kv_end, BLOCK_N):
        cols = start_n + offs_n
        in_range = cols < kv_end
        keep = in_range
        if HAS_MASK:
            keep = keep & (tl.load(valid_base + cols, mask=in_range, other=0) != 0)
        if SKIP_EMPTY:
            if tl.max(keep.to(tl.int32), 0) > 0:
                dq = _dq_block(dq, q, do, lse, delta, k_base, v_base, cols, in_range, keep, m_ok, offs_d,
                               d_ok, stride_kn, stride_kd, stride_vn, stride_vd, qk_scale, DOT_PREC)
        else:
            dq = _dq_block(dq, q, do, lse, delta, k_base, v_base, cols, in_range, keep, m_ok, offs_d,
                           d_ok, stride_kn, stride_kd, stride_vn, stride_vd, qk_scale, DOT_PREC)
    return dq


@triton.autotune(configs=bwd_configs(), key=AUTOTUNE_KEY, prune_configs_by={"early_config_prune": prune})
@triton.jit
def masked_attention_bwd_dq_kernel(
        Q, K, V, DO, LSE, DELTA, VALID, KV_END, DQ,
        stride_qb, stride_qh, stride_qn, stride_qd,
        stride_kb, stride_kh, stride_kn, stride_kd,
        stride_vb, stride_vh, stride_vn, stride_vd,
        stride_dob, stride_doh, stride_don, stride_dod,
        stride_dqb, stride_dqh, stride_dqn, stride_dqd,
        stride_valid_b, H, N_Q, N_K, scale, qk_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, HAS_MASK: tl.constexpr,
        SKIP_EMPTY: tl.constexpr, DOT_PREC: tl.constexpr, ACC_DTYPE: tl.constexpr,
        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """``dQ`` for one block of ``BLOCK_M`` queries; grid ``(cdiv(N_Q, BLOCK_M), B * H)``."""
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = (pid_bh // H).to(tl.int64)
    h = (pid_bh % H).to(tl.int64)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    m_ok = offs_m < N_Q
    d_ok = offs_d < HEAD_DIM
    qd_mask = m_ok[:, None] & d_ok[None, :]
    q = tl.load(Q + b * stride_qb + h * stride_qh + offs_m[:, None] * stride_qn + offs_d[None, :] * stride_qd,
                mask=qd_mask, other=0.0)
    do = tl.load(DO + b * stride_dob + h * stride_doh + offs_m[:, None] * stride_don
                 + offs_d[None, :] * stride_dod, mask=qd_mask, other=0.0)
    lse = tl.load(LSE + pid_bh.to(tl.int64) * N_Q + offs_m, mask=m_ok, other=0.0)
    delta = tl.load(DELTA + pid_bh.to(tl.int64) * N_Q + offs_m, mask=m_ok, other=0.0)
    if HAS_MASK:
        # A reduction gives a true scalar (also under the interpreter) for the loop bound.
        kv_end = tl.sum(tl.load(KV_END + b + tl.arange(0, 1)), 0)
    else:
        kv_end = N_K

    dq = tl.zeros([BLOCK_M, BLOCK_D], dtype=ACC_DTYPE)
    dq = _dq_inner(dq, q, do, lse, delta, K + b * stride_kb + h * stride_kh, V + b * stride_vb + h * stride_vh,
                   VALID + b * stride_valid_b, kv_end, offs_n, m_ok, offs_d, d_ok,
                   stride_kn, stride_kd, stride_vn, stride_vd, qk_scale,
                   HAS_MASK, SKIP_EMPTY, BLOCK_N, DOT_PREC)
    tl.store(DQ + b * stride_dqb + h * stride_dqh + offs_m[:, None] * stride_dqn + offs_d[None, :] * stride_dqd,
             (dq * scale).to(DQ.dtype.element_ty), mask=qd_mask)
