// Mask sampling shared by the CPU and CUDA kernels: Philox4x32-10, per-sample samplers
// (host + device functions, so both backends give the same bits) and the input checks.
// The pure-PyTorch reference in jepa_core/ops/masking/reference.py follows the same draws.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define JEPA_HD __host__ __device__ __forceinline__
#else
#define JEPA_HD inline
#endif

namespace jepa {

constexpr int kAttempts = 8;     // candidate positions per block (blocks.py: ATTEMPTS)
constexpr int kMaxTargets = 32;  // blocks.py: MAX_TARGETS
constexpr uint32_t kTagMultiblock = 1, kTagRandomSubset = 2, kTagTemporal = 3;  // philox.py

struct Words {
  uint32_t w[4];
};

JEPA_HD Words philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    const uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = uint32_t(p1);
    c2 = n2;
    c3 = uint32_t(p0);
  }
  return Words{{c0, c1, c2, c3}};
}

// Draw number `draw` of the stream (seed, step, sample id, tag): philox.py sample_counters.
JEPA_HD Words sample_words(uint64_t seed, uint64_t step, int64_t sample_id, uint32_t tag, uint32_t draw) {
  const uint64_t id = uint64_t(sample_id);
  return philox4x32(draw, uint32_t(step), uint32_t(id), uint32_t((id >> 32) & 0xFFFFFFu) * 256u + tag,
                    uint32_t(seed), uint32_t(seed >> 32));
}

// An integer in [0, n) from a 32-bit word.
JEPA_HD int64_t below(uint32_t word, int64_t n) { return int64_t((uint64_t(word) * uint64_t(n)) >> 32); }

// ---------------------------------------------------------------------------------------------
// Multiblock. Grids are padded to 3 axes with leading size-1 axes; axis d of an n-D grid is
// padded axis 3 - n + d and takes its position from word d.

struct Box {
  int64_t lo[3];
};

struct MultiblockParams {
  int ndim;
  int64_t grid[3];
  int64_t tshape[3];
  int64_t cshape[3];
  int num_targets;
  int64_t min_keep;
  bool allow_overlap;
  uint64_t seed;
  uint64_t step;
  int64_t kt;  // target width: target block volume
  int64_t kc;  // context width: context block volume
};

JEPA_HD Box place(const MultiblockParams& p, const int64_t* shape, const Words& w) {
  Box b{{0, 0, 0}};
  for (int d = 0; d < p.ndim; ++d) {
    const int a = 3 - p.ndim + d;
    b.lo[a] = below(w.w[d], p.grid[a] - shape[a] + 1);
  }
  return b;
}

JEPA_HD bool inside(const Box& b, const int64_t* shape, int64_t z, int64_t y, int64_t x) {
  return z >= b.lo[0] && z < b.lo[0] + shape[0] && y >= b.lo[1] && y < b.lo[1] + shape[1] &&
         x >= b.lo[2] && x < b.lo[2] + shape[2];
}

// Visits the tokens of a box in raster (increasing index) order that are valid and, when
// `excl` is given, outside every excluded box; calls f(index) on each.
template <typename F>
JEPA_HD void for_each_token(const MultiblockParams& p, const Box& b, const int64_t* shape, const bool* valid,
                            const Box* excl, int num_excl, F&& f) {
  for (int64_t z = b.lo[0]; z < b.lo[0] + shape[0]; ++z)
    for (int64_t y = b.lo[1]; y < b.lo[1] + shape[1]; ++y)
      for (int64_t x = b.lo[2]; x < b.lo[2] + shape[2]; ++x) {
        const int64_t i = (z * p.grid[1] + y) * p.grid[2] + x;
        if (valid && !valid[i]) continue;
        bool skip = false;
        for (int e = 0; e < num_excl && !skip; ++e) skip = inside(excl[e], p.tshape, z, y, x);
        if (!skip) f(i);
      }
}

// Writes the tokens of the first of kAttempts positions whose block keeps min_keep tokens
// (else of the first fullest) into out/ok, padded to `width` with (0, false); returns the box.
// Each attempt writes while it counts, so an accepted attempt costs one pass over its block.
JEPA_HD Box emit_block(const MultiblockParams& p, const int64_t* shape, int64_t sample_id, uint32_t first_draw,
                       const bool* valid, const Box* excl, int num_excl, int64_t width, int64_t* out, bool* ok) {
  Box best{{0, 0, 0}};
  int64_t best_count = -1, count = 0;
  for (int r = 0; r < kAttempts; ++r) {
    const Box b = place(p, shape, sample_words(p.seed, p.step, sample_id, kTagMultiblock, first_draw + r));
    count = 0;
    for_each_token(p, b, shape, valid, excl, num_excl, [&](int64_t i) { out[count++] = i; });
    if (count >= p.min_keep) {
      best = b;
      best_count = -2;  // accepted: out already holds its tokens
      break;
    }
    if (count > best_count) {
      best_count = count;
      best = b;
    }
  }
  if (best_count != -2) {
    count = 0;
    for_each_token(p, best, shape, valid, excl, num_excl, [&](int64_t i) { out[count++] = i; });
  }
  for (int64_t k = 0; k < width; ++k) ok[k] = k < count;
  for (int64_t k = count; k < width; ++k) out[k] = 0;
  return best;
}

// One sample: targets [M, kt] and context [kc], sorted, padded with (0, false).
JEPA_HD void multiblock_sample(const MultiblockParams& p, int64_t sample_id, const bool* valid, int64_t* ctx_idx,
                               bool* ctx_valid, int64_t* tgt_idx, bool* tgt_valid) {
  Box targets[kMaxTargets];
  for (int m = 0; m < p.num_targets; ++m)
    targets[m] = emit_block(p, p.tshape, sample_id, uint32_t(m * kAttempts), valid, nullptr, 0, p.kt,
                            tgt_idx + m * p.kt, tgt_valid + m * p.kt);
  const int num_excl = p.allow_overlap ? 0 : p.num_targets;
  emit_block(p, p.cshape, sample_id, uint32_t(p.num_targets * kAttempts), valid, targets, num_excl, p.kc, ctx_idx,
             ctx_valid);
}

// ---------------------------------------------------------------------------------------------
// Random subset: token n is ranked by word n % 4 of draw n / 4 (ties by index).

JEPA_HD uint32_t subset_key(uint64_t seed, uint64_t step, int64_t sample_id, int64_t n) {
  return sample_words(seed, step, sample_id, kTagRandomSubset, uint32_t(n / 4)).w[n % 4];
}

// Context and target sizes for `v` valid tokens (plans.py SubsetPlan.counts).
JEPA_HD void subset_counts(int64_t v, double context_ratio, double target_ratio, int64_t* kc, int64_t* kt) {
  int64_t c = int64_t(double(v) * context_ratio), t = int64_t(double(v) * target_ratio);
  if (v >= 2) {
    c = c < 1 ? 1 : c;
    t = t < 1 ? 1 : t;
  } else {
    c = v;
    t = 0;
  }
  *kc = c;
  *kt = t;
}

// ---------------------------------------------------------------------------------------------
// Temporal: the first hidden frame of a sample.

JEPA_HD int64_t temporal_start(uint64_t seed, uint64_t step, int64_t sample_id, int64_t frames_total,
                               int64_t frames, bool random_span) {
  if (!random_span) return frames_total - frames;
  return below(sample_words(seed, step, sample_id, kTagTemporal, 0).w[0], frames_total - frames + 1);
}

// One sample of a T x frame_tokens grid: the valid tokens of frames [t0, t0 + frames) are
// the target, the other valid tokens the context; both padded with (0, false).
JEPA_HD void temporal_sample(int64_t num_frames, int64_t frame_tokens, int64_t frames, int64_t t0,
                             const bool* valid, int64_t wc, int64_t wt, int64_t* ci, bool* cv, int64_t* ti,
                             bool* tv) {
  const int64_t n = num_frames * frame_tokens;
  const int64_t first = t0 * frame_tokens, last = (t0 + frames) * frame_tokens;
  int64_t a = 0, c = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (valid && !valid[i]) continue;
    if (i >= first && i < last) { ti[c] = i; tv[c++] = true; }
    else { ci[a] = i; cv[a++] = true; }
  }
  for (; a < wc; ++a) { ci[a] = 0; cv[a] = false; }
  for (; c < wt; ++c) { ti[c] = 0; tv[c] = false; }
}

}  // namespace jepa

// Input checks and output buffers shared by the CPU and CUDA wrappers (host only).
#include <ATen/ATen.h>

#include <tuple>

namespace jepa {

using Out4 = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>;

// The four outputs of a mask op on the device of `ids`: context [B, wc], targets [B, m, wt].
struct MaskOutputs {
  at::Tensor ci, cv, ti, tv;
  MaskOutputs(const at::Tensor& ids, int64_t wc, int64_t m, int64_t wt) {
    const int64_t b = ids.size(0);
    ci = at::empty({b, wc}, ids.options().dtype(at::kLong));
    cv = at::empty({b, wc}, ids.options().dtype(at::kBool));
    ti = at::empty({b, m, wt}, ids.options().dtype(at::kLong));
    tv = at::empty({b, m, wt}, ids.options().dtype(at::kBool));
  }
  Out4 tuple() const { return {ci, cv, ti, tv}; }
};

// Pointer to a contiguous copy of the optional validity mask (kept alive by `keep`), or null.
inline const bool* valid_ptr(const std::optional<at::Tensor>& v, at::Tensor& keep) {
  if (!v.has_value()) return nullptr;
  keep = v->contiguous();
  return keep.data_ptr<bool>();
}

inline void check_mask_inputs(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                              int64_t num_tokens) {
  TORCH_CHECK(sample_ids.dim() == 1 && sample_ids.scalar_type() == at::kLong,
              "jepa masking: sample_ids must be a 1-D int64 tensor, got ", sample_ids.scalar_type(), " ",
              sample_ids.sizes());
  if (token_valid.has_value()) {
    const auto& v = *token_valid;
    TORCH_CHECK(v.scalar_type() == at::kBool, "jepa masking: token_valid must be bool");
    TORCH_CHECK(v.dim() == 2 && v.size(0) == sample_ids.size(0) && v.size(1) == num_tokens,
                "jepa masking: token_valid must be [", sample_ids.size(0), ", ", num_tokens, "], got ", v.sizes());
    TORCH_CHECK(v.device() == sample_ids.device(), "jepa masking: token_valid and sample_ids on different devices");
  }
}

inline MultiblockParams make_multiblock_params(at::IntArrayRef grid, int64_t num_targets, at::IntArrayRef tshape,
                                               at::IntArrayRef cshape, int64_t min_keep, bool allow_overlap,
                                               int64_t seed, int64_t step) {
  const int64_t n = int64_t(grid.size());
  TORCH_CHECK(n >= 1 && n <= 3, "jepa::multiblock_masks: grid must have 1 to 3 axes, got ", grid);
  TORCH_CHECK(int64_t(tshape.size()) == n && int64_t(cshape.size()) == n,
              "jepa::multiblock_masks: block shapes must have as many axes as the grid");
  TORCH_CHECK(num_targets >= 1 && num_targets <= kMaxTargets, "jepa::multiblock_masks: num_targets must be in [1, ",
              kMaxTargets, "], got ", num_targets);
  MultiblockParams p{};
  p.ndim = int(n);
  p.kt = p.kc = 1;
  for (int a = 0; a < 3; ++a) p.grid[a] = p.tshape[a] = p.cshape[a] = 1;
  for (int64_t d = 0; d < n; ++d) {
    const int a = int(3 - n + d);
    p.grid[a] = grid[d];
    p.tshape[a] = tshape[d];
    p.cshape[a] = cshape[d];
    TORCH_CHECK(grid[d] >= 1 && tshape[d] >= 1 && tshape[d] <= grid[d] && cshape[d] >= 1 && cshape[d] <= grid[d],
                "jepa::multiblock_masks: block shapes must fit the grid ", grid, ", got ", tshape, " and ", cshape);
    p.kt *= tshape[d];
    p.kc *= cshape[d];
  }
  p.num_targets = int(num_targets);
  p.min_keep = min_keep;
  p.allow_overlap = allow_overlap;
  p.seed = uint64_t(seed);
  p.step = uint64_t(step);
  return p;
}

}  // namespace jepa
