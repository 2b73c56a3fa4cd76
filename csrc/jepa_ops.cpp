// All schemas of the torch.ops.jepa namespace live here, in one place.
// Backends register their kernels in csrc/cpu/*.cpp and csrc/cuda/*.cu.
#include <Python.h>
#include <torch/library.h>

extern "C" {
// Importing jepa_core._C loads this library, which runs the TORCH_LIBRARY registrations.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}
}

TORCH_LIBRARY(jepa, m) {
  // Mask sampling (csrc/masking.h). Block shapes are drawn per batch by the Python wrapper;
  // outputs are padded to static widths (block volumes / full-sample counts) with validity.
  m.def("multiblock_masks(Tensor sample_ids, Tensor? token_valid, int[] grid, int num_targets, "
        "int[] target_shape, int[] context_shape, int min_keep, bool allow_overlap, int seed, int step) "
        "-> (Tensor context_idx, Tensor context_valid, Tensor target_idx, Tensor target_valid)");
  m.def("random_subset_masks(Tensor sample_ids, Tensor? token_valid, int num_tokens, float context_ratio, "
        "float target_ratio, int seed, int step) "
        "-> (Tensor context_idx, Tensor context_valid, Tensor target_idx, Tensor target_valid)");
  m.def("temporal_masks(Tensor sample_ids, Tensor? token_valid, int num_frames, int frame_tokens, int frames, "
        "bool random_span, int seed, int step) "
        "-> (Tensor context_idx, Tensor context_valid, Tensor target_idx, Tensor target_valid)");
  // Token gather tokens[B, N, D], idx[B, K] -> [B, K, D] and its backward (scatter-add).
  m.def("gather_tokens(Tensor tokens, Tensor idx) -> Tensor");
  m.def("gather_tokens_backward(Tensor grad, Tensor idx, int num_tokens) -> Tensor");
}
