"""The networks' configurations, without torch: what a checkpoint's `model_config` holds,
read by the model processes (which run the networks in NumPy/Numba) as well as by the torch
models in `recognizer.py` and `synthesizer.py`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from handwriting.alphabet import DEFAULT_ALPHABET

RHO_LIMIT = 1 - 1e-4  # |rho| < 1 keeps 1 - rho^2 away from 0 (the mixture head's correlation)


@dataclass
class RecognizerConfig:
    n_features: int = 8
    n_classes: int = len(DEFAULT_ALPHABET)  # alphabet + CTC blank (index 0)
    conv_channels: int = 128
    conv_layers: int = 2  # each halves the sequence length
    kernel: int = 5
    hidden: int = 128  # per direction
    layers: int = 3
    dropout: float = 0.2
    forget_bias: float = 1.0  # Gers et al. 2000: start by remembering

    @property
    def stride(self) -> int:
        return 2**self.conv_layers

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SynthesizerConfig:
    n_chars: int = len(DEFAULT_ALPHABET)  # alphabet + padding (index 0)
    hidden: int = 256
    layers: int = 3
    mixtures: int = 20
    window_gaussians: int = 10
    kappa_scale: float = 0.1  # step size of kappa in characters per exp(k_hat): ~10 pts/char

    def to_dict(self) -> dict:
        return asdict(self)
