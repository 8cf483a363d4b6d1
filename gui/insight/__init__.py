"""Live panels that show what the networks do: LSTM cell states and gates, CTC posteriors,
saliency and single units on the ink for recognition; the attention window, next-point
mixture and end-of-stroke probability for synthesis; and a counting-LSTM lab. Pure views
over `handwriting.traces` results that a host computes in its worker."""

from gui.insight.blocks import export_widget
from gui.insight.dock import InkHoverBridge, InsightDock
from gui.insight.ink_views import NeuronInkView, SaliencyView
from gui.insight.lab import LstmLabPanel
from gui.insight.model import (
    LineFrame,
    RecognitionInsight,
    RecognitionState,
    SaliencyRequest,
    SaliencyResult,
    SynthesisTrack,
    TimeCursor,
    sync_saliency_provider,
)
from gui.insight.recognition import CellStatePanel, GatePanel, PosteriorPanel
from gui.insight.synthesis import AttentionPanel, EosTrace, MixtureView

__all__ = [
    "AttentionPanel", "CellStatePanel", "EosTrace", "GatePanel", "InkHoverBridge",
    "InsightDock", "LineFrame", "LstmLabPanel", "MixtureView", "NeuronInkView",
    "PosteriorPanel", "RecognitionInsight", "RecognitionState", "SaliencyRequest",
    "SaliencyResult", "SaliencyView", "SynthesisTrack", "TimeCursor", "export_widget",
    "sync_saliency_provider",
]
