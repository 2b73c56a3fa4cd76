"""Transformer blocks, N-D positions, the encoder and the predictor."""

from .encoder import Encoder
from .positions import resize_positions, sincos_coords, sincos_positions
from .predictor import MaskedPredictorConfig, Predictor, create_predictor
from .transformer import Block, Transformer

__all__ = ["Block", "Encoder", "MaskedPredictorConfig", "Predictor", "Transformer", "create_predictor",
           "resize_positions", "sincos_coords", "sincos_positions"]
