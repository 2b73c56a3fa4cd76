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
}
