"""Live panels that show what the networks do: LSTM cell states and gates, CTC posteriors,
saliency and single units on the ink for recognition; the attention window, next-point
mixture and end-of-stroke probability for synthesis; and a counting-LSTM lab. Pure views
over `handwriting.traces` results that a host computes in its worker. Import each name
from its module (`gui.insight.dock`, `.model`, `.recognition`, ...)."""
