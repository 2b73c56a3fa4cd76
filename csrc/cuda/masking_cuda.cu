// CUDA kernels of the masking ops. Multiblock and temporal run the shared per-sample
// samplers of masking.h (one thread per sample: the same code as the CPU, so the same
// bits); random subset ranks each sample's tokens with one thread block per sample.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "masking.h"

namespace jepa {
namespace {

constexpr int kThreads = 128;

__global__ void multiblock_kernel(MultiblockParams p, int64_t b, int64_t n, const int64_t* ids, const bool* valid,
                                  int64_t* ci, bool* cv, int64_t* ti, bool* tv) {
  const int64_t s = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (s >= b) return;
  multiblock_sample(p, ids[s], valid ? valid + s * n : nullptr, ci + s * p.kc, cv + s * p.kc,
                    ti + s * p.num_targets * p.kt, tv + s * p.num_targets * p.kt);
}

__global__ void random_subset_kernel(int64_t n, double cr, double tr, uint64_t seed, uint64_t step, const int64_t* ids,
                                     const bool* valid, unsigned long long* keys, uint8_t* role, int64_t wc,
                                     int64_t wt, int64_t* ci, bool* cv, int64_t* ti, bool* tv) {
  const int64_t s = blockIdx.x;
  unsigned long long* k = keys + s * n;
  uint8_t* ro = role + s * n;
  const bool* v = valid ? valid + s * n : nullptr;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    k[i] = (v && !v[i]) ? ~0ull : ((unsigned long long)subset_key(seed, step, ids[s], i) << 32) | (unsigned long long)i;
  __shared__ int64_t kc, kt;
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += (!v || v[i]) ? 1 : 0;
    subset_counts(count, cr, tr, &kc, &kt);
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    uint8_t r = 0;
    if (k[i] != ~0ull) {
      int64_t rank = 0;
      for (int64_t j = 0; j < n; ++j) rank += k[j] < k[i] ? 1 : 0;
      r = rank < kc ? 1 : (rank < kc + kt ? 2 : 0);
    }
    ro[i] = r;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t a = 0, c = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (ro[i] == 1) { ci[s * wc + a] = i; cv[s * wc + a++] = true; }
      if (ro[i] == 2) { ti[s * wt + c] = i; tv[s * wt + c++] = true; }
    }
    for (; a < wc; ++a) { ci[s * wc + a] = 0; cv[s * wc + a] = false; }
    for (; c < wt; ++c) { ti[s * wt + c] = 0; tv[s * wt + c] = false; }
  }
}

__global__ void temporal_kernel(int64_t b, int64_t num_frames, int64_t frame_tokens, int64_t frames, bool random_span,
                                uint64_t seed, uint64_t step, const int64_t* ids, const bool* valid, int64_t wc,
                                int64_t wt, int64_t* ci, bool* cv, int64_t* ti, bool* tv) {
  const int64_t s = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (s >= b) return;
  const int64_t n = num_frames * frame_tokens;
  const int64_t t0 = temporal_start(seed, step, ids[s], num_frames, frames, random_span);
  temporal_sample(num_frames, frame_tokens, frames, t0, valid ? valid + s * n : nullptr, wc, wt, ci + s * wc,
                  cv + s * wc, ti + s * wt, tv + s * wt);
}

unsigned blocks_for(int64_t b) { return unsigned((b + kThreads - 1) / kThreads); }

Out4 multiblock_masks_cuda(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                           at::IntArrayRef grid, int64_t num_targets, at::IntArrayRef target_shape,
                           at::IntArrayRef context_shape, int64_t min_keep, bool allow_overlap, int64_t seed,
                           int64_t step) {
  const MultiblockParams p =
      make_multiblock_params(grid, num_targets, target_shape, context_shape, min_keep, allow_overlap, seed, step);
  const int64_t n = p.grid[0] * p.grid[1] * p.grid[2];
  check_mask_inputs(sample_ids, token_valid, n);
  const c10::cuda::CUDAGuard guard(sample_ids.device());
  const auto ids = sample_ids.contiguous();
  at::Tensor keep;
  const bool* valid = valid_ptr(token_valid, keep);
  const int64_t b = ids.size(0);
  MaskOutputs o(ids, p.kc, num_targets, p.kt);
  if (b > 0) {
    multiblock_kernel<<<blocks_for(b), kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        p, b, n, ids.data_ptr<int64_t>(), valid, o.ci.data_ptr<int64_t>(), o.cv.data_ptr<bool>(),
        o.ti.data_ptr<int64_t>(), o.tv.data_ptr<bool>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  return o.tuple();
}

Out4 random_subset_masks_cuda(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                              int64_t num_tokens, double context_ratio, double target_ratio, int64_t seed,
                              int64_t step) {
  TORCH_CHECK(num_tokens >= 1, "jepa::random_subset_masks: num_tokens must be >= 1");
  check_mask_inputs(sample_ids, token_valid, num_tokens);
  const c10::cuda::CUDAGuard guard(sample_ids.device());
  const auto ids = sample_ids.contiguous();
  at::Tensor keep;
  const bool* valid = valid_ptr(token_valid, keep);
  const int64_t b = ids.size(0), n = num_tokens;
  int64_t wc, wt;
  subset_counts(n, context_ratio, target_ratio, &wc, &wt);
  MaskOutputs o(ids, wc, 1, wt);
  if (b > 0) {
    auto keys = at::empty({b, n}, ids.options().dtype(at::kLong));
    auto role = at::empty({b, n}, ids.options().dtype(at::kByte));
    random_subset_kernel<<<unsigned(b), 256, 0, c10::cuda::getCurrentCUDAStream()>>>(
        n, context_ratio, target_ratio, uint64_t(seed), uint64_t(step), ids.data_ptr<int64_t>(), valid,
        reinterpret_cast<unsigned long long*>(keys.data_ptr<int64_t>()), role.data_ptr<uint8_t>(), wc, wt,
        o.ci.data_ptr<int64_t>(), o.cv.data_ptr<bool>(), o.ti.data_ptr<int64_t>(), o.tv.data_ptr<bool>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  return o.tuple();
}

Out4 temporal_masks_cuda(const at::Tensor& sample_ids, const std::optional<at::Tensor>& token_valid,
                         int64_t num_frames, int64_t frame_tokens, int64_t frames, bool random_span, int64_t seed,
                         int64_t step) {
  TORCH_CHECK(frames >= 1 && frames < num_frames && frame_tokens >= 1,
              "jepa::temporal_masks: need 1 <= frames < num_frames and frame_tokens >= 1");
  check_mask_inputs(sample_ids, token_valid, num_frames * frame_tokens);
  const c10::cuda::CUDAGuard guard(sample_ids.device());
  const auto ids = sample_ids.contiguous();
  at::Tensor keep;
  const bool* valid = valid_ptr(token_valid, keep);
  const int64_t b = ids.size(0), wc = (num_frames - frames) * frame_tokens, wt = frames * frame_tokens;
  MaskOutputs o(ids, wc, 1, wt);
  if (b > 0) {
    temporal_kernel<<<blocks_for(b), kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        b, num_frames, frame_tokens, frames, random_span, uint64_t(seed), uint64_t(step), ids.data_ptr<int64_t>(),
        valid, wc, wt, o.ci.data_ptr<int64_t>(), o.cv.data_ptr<bool>(), o.ti.data_ptr<int64_t>(),
        o.tv.data_ptr<bool>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  return o.tuple();
}

}  // namespace

TORCH_LIBRARY_IMPL(jepa, CUDA, m) {
  m.impl("multiblock_masks", &multiblock_masks_cuda);
  m.impl("random_subset_masks", &random_subset_masks_cuda);
  m.impl("temporal_masks", &temporal_masks_cuda);
}

}  // namespace jepa
