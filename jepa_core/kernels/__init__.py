"""Triton kernels; imported lazily by :mod:`jepa_core.ops` only, never at package import."""
