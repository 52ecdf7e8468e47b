"""Offline training, evaluation and export of the paper's six architectures."""
