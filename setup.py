"""Builds the compiled extension ``jepa_core._C`` (everything else is in pyproject.toml).

C++ sources are always compiled. CUDA sources are added when torch was built with CUDA
and ``nvcc`` is found; ``JEPA_FORCE_CUDA=1`` adds them regardless (for building on a
machine without a GPU), ``JEPA_SKIP_CUDA=1`` leaves them out. The choice is printed, so
a build never drops CUDA silently.
"""

from __future__ import annotations

import glob
import os

from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension
import torch

ROOT = os.path.dirname(os.path.abspath(__file__))


def _flag(name: str) -> bool:
    return os.environ.get(name, "0").lower() in {"1", "true", "yes", "on"}


def _with_cuda() -> tuple[bool, str]:
    if _flag("JEPA_SKIP_CUDA"):
        return False, "JEPA_SKIP_CUDA=1"
    if _flag("JEPA_FORCE_CUDA"):
        return True, "JEPA_FORCE_CUDA=1"
    if torch.version.cuda is None:
        return False, "torch was built without CUDA"
    if CUDA_HOME is None:
        return False, "nvcc not found (set CUDA_HOME)"
    return True, f"torch CUDA {torch.version.cuda}, CUDA_HOME={CUDA_HOME}"


def _extension():
    rel = lambda pattern: sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))
    cpp = rel("csrc/*.cpp") + rel("csrc/cpu/*.cpp")
    cuda = rel("csrc/cuda/*.cu")
    use_cuda, why = _with_cuda()
    print(f"[jepa-core] building jepa_core._C: C++ ({len(cpp)} files); "
          f"CUDA {'on' if use_cuda else 'off'} ({why})")
    cxx = ["-O3", "-std=c++17", "-fopenmp"] if os.name != "nt" else ["/O2", "/std:c++17", "/openmp"]
    args = dict(
        name="jepa_core._C",
        include_dirs=[os.path.join(ROOT, "csrc")],
        extra_compile_args={"cxx": cxx},
        extra_link_args=["-fopenmp"] if os.name != "nt" else [],
        py_limited_api=False,
    )
    if use_cuda:
        args["extra_compile_args"]["nvcc"] = ["-O3", "-std=c++17", "--use_fast_math", "-DJEPA_WITH_CUDA"]
        args["extra_compile_args"]["cxx"] = cxx + ["-DJEPA_WITH_CUDA"]
        return CUDAExtension(sources=cpp + cuda, **args)
    return CppExtension(sources=cpp, **args)


setup(ext_modules=[_extension()], cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)})
