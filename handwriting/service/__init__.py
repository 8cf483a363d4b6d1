"""The small API the GUI and the CLI call (sjvasquez `Hand.write`, torchaudio's decoders):
`Recognizer.recognize(ink)` and `Synthesizer.stream(text)`. Never hands out `nn.Module`s;
validates input up front and raises `ValueError` naming the bad value.

The networks run forward in NumPy and Numba (`models.numba_recognizer`, `models.numba_sampler`)
from weights read without torch (`checkpoint.read_checkpoint`): recognizing and writing never
import torch, so the model processes start in ~1 s and hold ~100 MB instead of ~2.5 s and
~400 MB each. The torch networks (`.net`) are built on first use, for what needs gradients
or torch's own step: the insight panels' inspection and saliency, adaptation, the "torch"
engine. Without Numba, torch runs everything, as before."""

from handwriting.service._recognizer import ENGINES, MAX_RAW_POINTS, DecoderSettings, Recognizer
from handwriting.service._synthesizer import Synthesizer

__all__ = ["ENGINES", "MAX_RAW_POINTS", "DecoderSettings", "Recognizer", "Synthesizer"]
