"""Neural networks: the BiLSTM-CTC recognizer and the Graves (2013) synthesizer."""
