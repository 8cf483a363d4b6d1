"""Training: a generic resumable loop (`loop.py`) and one task module per model."""
