"""Transformer blocks, N-D positions, the encoder and the predictor."""

from .encoder import Encoder
from .positions import sincos_coords, sincos_positions
from .predictor import Predictor
from .transformer import Block, Transformer

__all__ = ["Block", "Encoder", "Predictor", "Transformer", "sincos_coords", "sincos_positions"]
