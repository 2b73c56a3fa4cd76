// CPU kernels of the token gather: rows copied in parallel; backward scatter-adds per sample.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cstring>

#include "gather.h"

namespace jepa {
namespace {

void check_range(const at::Tensor& idx, int64_t n) {
  if (idx.numel() == 0) return;
  const int64_t* p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    TORCH_CHECK(p[i] >= 0 && p[i] < n, "jepa::gather_tokens: index ", p[i], " out of range [0, ", n, ")");
}

at::Tensor gather_tokens_cpu(const at::Tensor& tokens, const at::Tensor& idx) {
  check_gather(tokens, idx);
  const auto t = tokens.contiguous();
  const auto ix = idx.contiguous();
  const int64_t b = t.size(0), n = t.size(1), d = t.size(2), k = ix.size(1);
  check_range(ix, n);
  auto out = at::empty({b, k, d}, t.options());
  if (out.numel() == 0) return out;
  const int64_t* ip = ix.data_ptr<int64_t>();
  const size_t row = size_t(d) * t.element_size();
  const char* src = static_cast<const char*>(t.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  at::parallel_for(0, b * k, 256, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) std::memcpy(dst + r * row, src + ((r / k) * n + ip[r]) * row, row);
  });
  return out;
}

at::Tensor gather_tokens_backward_cpu(const at::Tensor& grad, const at::Tensor& idx, int64_t num_tokens) {
  check_gather_backward(grad, idx, num_tokens);
  const auto g = grad.contiguous();
  const auto ix = idx.contiguous();
  const int64_t b = g.size(0), k = g.size(1), d = g.size(2);
  check_range(ix, num_tokens);
  auto out = at::zeros({b, num_tokens, d}, g.options());
  if (g.numel() == 0) return out;
  const int64_t* ip = ix.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "gather_tokens_backward_cpu", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    at::parallel_for(0, b, 1, [&](int64_t lo, int64_t hi) {  // samples write disjoint slices
      for (int64_t s = lo; s < hi; ++s)
        for (int64_t j = 0; j < k; ++j) {
          scalar_t* o = op + (s * num_tokens + ip[s * k + j]) * d;
          const scalar_t* x = gp + (s * k + j) * d;
          for (int64_t c = 0; c < d; ++c) o[c] += x[c];
        }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(jepa, CPU, m) {
  m.impl("gather_tokens", &gather_tokens_cpu);
  m.impl("gather_tokens_backward", &gather_tokens_backward_cpu);
}

}  // namespace jepa
