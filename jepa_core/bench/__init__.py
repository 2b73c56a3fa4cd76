"""Benchmarks behind ``jepa bench``: each module has ``run(device, out_dir, quick) -> dict``."""
