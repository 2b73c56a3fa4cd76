"""Test session settings.

- One intra-op thread: the models are tiny and a contended thread pool thrashes.
- Without a CUDA device, Triton kernels run in Triton's CPU interpreter, so the fused
  attention kernel is tested on every machine (on small shapes).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
