"""Clips to tubelet tokens (V-JEPA).

Readers for video files (PyAV), ``[T, H, W, C]`` arrays and folders of frames, decoded
lazily in DataLoader workers; V-JEPA's clip sampling (frames per clip, frame step,
random temporal crop keyed by seed, step and sample id, several clips per video, short
clips padded or looped); a 3-D tubelet tokenizer with the image plugin's ViT presets;
the moving-shapes demo whose label only motion reveals; folder and CSV labels.
"""

from .options import VideoOptions
from .plugin import VideoModality
from .tokenizer import TubeletTokenizer

__all__ = ["TubeletTokenizer", "VideoModality", "VideoOptions"]
