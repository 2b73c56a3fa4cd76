// Input checks of the token gather shared by the CPU and CUDA kernels.
#pragma once

#include <ATen/ATen.h>

namespace jepa {

inline void check_gather(const at::Tensor& tokens, const at::Tensor& idx) {
  TORCH_CHECK(tokens.dim() == 3, "jepa::gather_tokens: tokens must be [B, N, D], got ", tokens.sizes());
  TORCH_CHECK(idx.dim() == 2 && idx.size(0) == tokens.size(0),
              "jepa::gather_tokens: idx must be [B, K] with B = ", tokens.size(0), ", got ", idx.sizes());
  TORCH_CHECK(idx.scalar_type() == at::kLong, "jepa::gather_tokens: idx must be int64, got ", idx.scalar_type());
  TORCH_CHECK(idx.device() == tokens.device(), "jepa::gather_tokens: tokens and idx on different devices");
}

inline void check_gather_backward(const at::Tensor& grad, const at::Tensor& idx, int64_t num_tokens) {
  TORCH_CHECK(grad.dim() == 3 && idx.dim() == 2 && grad.size(0) == idx.size(0) && grad.size(1) == idx.size(1),
              "jepa::gather_tokens_backward: grad must be [B, K, D] for idx [B, K], got ", grad.sizes(), " and ",
              idx.sizes());
  TORCH_CHECK(idx.scalar_type() == at::kLong, "jepa::gather_tokens_backward: idx must be int64");
  TORCH_CHECK(num_tokens >= 0, "jepa::gather_tokens_backward: num_tokens must be >= 0");
}

}  // namespace jepa
