// CUDA kernels of the token gather: one thread block row per gathered token; the backward
// scatter-adds with atomics (repeated indices accumulate).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/Atomic.cuh>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "gather.h"

namespace jepa {
namespace {

template <typename scalar_t>
__global__ void gather_kernel(const scalar_t* tokens, const int64_t* idx, scalar_t* out, int64_t n, int64_t k,
                              int64_t d) {
  const int64_t r = blockIdx.x;  // row b * k + j
  const int64_t i = idx[r];
  CUDA_KERNEL_ASSERT(i >= 0 && i < n);
  const scalar_t* src = tokens + ((r / k) * n + i) * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) out[r * d + c] = src[c];
}

template <typename scalar_t>
__global__ void scatter_add_kernel(const scalar_t* grad, const int64_t* idx, scalar_t* out, int64_t n, int64_t k,
                                   int64_t d) {
  const int64_t r = blockIdx.x;
  const int64_t i = idx[r];
  CUDA_KERNEL_ASSERT(i >= 0 && i < n);
  scalar_t* dst = out + ((r / k) * n + i) * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) gpuAtomicAdd(dst + c, grad[r * d + c]);
}

int threads_for(int64_t d) { return d >= 256 ? 256 : (d >= 64 ? 64 : 32); }

at::Tensor gather_tokens_cuda(const at::Tensor& tokens, const at::Tensor& idx) {
  check_gather(tokens, idx);
  const c10::cuda::CUDAGuard guard(tokens.device());
  const auto t = tokens.contiguous();
  const auto ix = idx.contiguous();
  const int64_t b = t.size(0), n = t.size(1), d = t.size(2), k = ix.size(1);
  auto out = at::empty({b, k, d}, t.options());
  if (out.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, t.scalar_type(), "gather_tokens_cuda", [&] {
    gather_kernel<scalar_t><<<unsigned(b * k), threads_for(d), 0, c10::cuda::getCurrentCUDAStream()>>>(
        t.data_ptr<scalar_t>(), ix.data_ptr<int64_t>(), out.data_ptr<scalar_t>(), n, k, d);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor gather_tokens_backward_cuda(const at::Tensor& grad, const at::Tensor& idx, int64_t num_tokens) {
  check_gather_backward(grad, idx, num_tokens);
  const c10::cuda::CUDAGuard guard(grad.device());
  const auto g = grad.contiguous();
  const auto ix = idx.contiguous();
  const int64_t b = g.size(0), k = g.size(1), d = g.size(2);
  auto out = at::zeros({b, num_tokens, d}, g.options());
  if (g.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "gather_tokens_backward_cuda", [&] {
    scatter_add_kernel<scalar_t><<<unsigned(b * k), threads_for(d), 0, c10::cuda::getCurrentCUDAStream()>>>(
        g.data_ptr<scalar_t>(), ix.data_ptr<int64_t>(), out.data_ptr<scalar_t>(), num_tokens, k, d);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(jepa, CUDA, m) {
  m.impl("gather_tokens", &gather_tokens_cuda);
  m.impl("gather_tokens_backward", &gather_tokens_backward_cuda);
}

}  // namespace jepa
