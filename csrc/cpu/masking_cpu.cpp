// CPU kernels of the masking ops: at::parallel_for over the batch, in tasks of many samples.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "masking.h"

namespace jepa {
namespace {

// A sample takes about a microsecond: smaller tasks cost more in thread wake-ups than they save.
constexpr int64_t kSamplesPerTask = 128;  // parallel_for runs a range shorter than this inline

Out4 multiblock_masks_cpu(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                          at::IntArrayRef grid, int64_t num_targets, at::IntArrayRef target_shape,
                          at::IntArrayRef context_shape, int64_t min_keep, bool allow_overlap, int64_t seed,
                          int64_t step) {
  const MultiblockParams p =
      make_multiblock_params(grid, num_targets, target_shape, context_shape, min_keep, allow_overlap, seed, step);
  const int64_t n = p.grid[0] * p.grid[1] * p.grid[2];
  check_mask_inputs(sample_ids, token_valid, n);
  const int64_t b = sample_ids.size(0);
  const auto ids = sample_ids.contiguous();
  at::Tensor keep;
  const bool* valid = valid_ptr(token_valid, keep);
  MaskOutputs o(ids, p.kc, num_targets, p.kt);
  const int64_t* id = ids.data_ptr<int64_t>();
  int64_t *ci = o.ci.data_ptr<int64_t>(), *ti = o.ti.data_ptr<int64_t>();
  bool *cv = o.cv.data_ptr<bool>(), *tv = o.tv.data_ptr<bool>();
  at::parallel_for(0, b, kSamplesPerTask, [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s)
      multiblock_sample(p, id[s], valid ? valid + s * n : nullptr, ci + s * p.kc, cv + s * p.kc,
                        ti + s * num_targets * p.kt, tv + s * num_targets * p.kt);
  });
  return o.tuple();
}

Out4 random_subset_masks_cpu(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                             int64_t num_tokens, double context_ratio, double target_ratio, int64_t seed,
                             int64_t step) {
  TORCH_CHECK(num_tokens >= 1, "jepa::random_subset_masks: num_tokens must be >= 1");
  check_mask_inputs(sample_ids, token_valid, num_tokens);
  const int64_t b = sample_ids.size(0), n = num_tokens;
  int64_t wc, wt;
  subset_counts(n, context_ratio, target_ratio, &wc, &wt);
  const auto ids = sample_ids.contiguous();
  at::Tensor keep;
  const bool* valid = valid_ptr(token_valid, keep);
  MaskOutputs o(ids, wc, 1, wt);
  const int64_t* id = ids.data_ptr<int64_t>();
  int64_t *ci = o.ci.data_ptr<int64_t>(), *ti = o.ti.data_ptr<int64_t>();
  bool *cv = o.cv.data_ptr<bool>(), *tv = o.tv.data_ptr<bool>();
  const uint64_t sd = uint64_t(seed), st = uint64_t(step);
  at::parallel_for(0, b, kSamplesPerTask / 4, [&](int64_t lo, int64_t hi) {
    std::vector<uint64_t> keys;
    std::vector<uint8_t> role(n);
    for (int64_t s = lo; s < hi; ++s) {
      const bool* v = valid ? valid + s * n : nullptr;
      keys.clear();
      for (int64_t i = 0; i < n; i += 4) {
        const Words w = sample_words(sd, st, id[s], kTagRandomSubset, uint32_t(i / 4));
        for (int64_t j = i; j < std::min(n, i + 4); ++j)
          if (!v || v[j]) keys.push_back((uint64_t(w.w[j - i]) << 32) | uint64_t(j));
      }
      int64_t kc, kt;
      subset_counts(int64_t(keys.size()), context_ratio, target_ratio, &kc, &kt);
      std::fill(role.begin(), role.end(), uint8_t(0));
      std::partial_sort(keys.begin(), keys.begin() + (kc + kt), keys.end());
      for (int64_t r = 0; r < kc + kt; ++r) role[keys[r] & 0xFFFFFFFFu] = r < kc ? 1 : 2;
      int64_t a = 0, c = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (role[i] == 1) { ci[s * wc + a] = i; cv[s * wc + a++] = true; }
        if (role[i] == 2) { ti[s * wt + c] = i; tv[s * wt + c++] = true; }
      }
      for (; a < wc; ++a) { ci[s * wc + a] = 0; cv[s * wc + a] = false; }
      for (; c < wt; ++c) { ti[s * wt + c] = 0; tv[s * wt + c] = false; }
    }
  });
  return o.tuple();
}

Out4 temporal_masks_cpu(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                        int64_t num_frames, int64_t frame_tokens, int64_t frames, bool random_span, int64_t seed,
                        int64_t step) {
  TORCH_CHECK(frames >= 1 && frames < num_frames && frame_tokens >= 1,
              "jepa::temporal_masks: need 1 <= frames < num_frames and frame_tokens >= 1");
  const int64_t n = num_frames * frame_tokens;
  check_mask_inputs(sample_ids, token_valid, n);
  const int64_t b = sample_ids.size(0), wc = (num_frames - frames) * frame_tokens, wt = frames * frame_tokens;
  const auto ids = sample_ids.contiguous();
  at::Tensor keep;
  const bool* valid = valid_ptr(token_valid, keep);
  MaskOutputs o(ids, wc, 1, wt);
  const int64_t* id = ids.data_ptr<int64_t>();
  int64_t *ci = o.ci.data_ptr<int64_t>(), *ti = o.ti.data_ptr<int64_t>();
  bool *cv = o.cv.data_ptr<bool>(), *tv = o.tv.data_ptr<bool>();
  at::parallel_for(0, b, kSamplesPerTask, [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s) {
      const int64_t t0 = temporal_start(uint64_t(seed), uint64_t(step), id[s], num_frames, frames, random_span);
      temporal_sample(num_frames, frame_tokens, frames, t0, valid ? valid + s * n : nullptr, wc, wt, ci + s * wc,
                      cv + s * wc, ti + s * wt, tv + s * wt);
    }
  });
  return o.tuple();
}

}  // namespace

TORCH_LIBRARY_IMPL(jepa, CPU, m) {
  m.impl("multiblock_masks", &multiblock_masks_cpu);
  m.impl("random_subset_masks", &random_subset_masks_cpu);
  m.impl("temporal_masks", &temporal_masks_cpu);
}

}  // namespace jepa
