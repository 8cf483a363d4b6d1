"""Dataset preparation (one module per source) and torch Datasets for both models."""
