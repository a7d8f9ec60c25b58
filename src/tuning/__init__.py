"""Hyperparameter search with Optuna: search spaces and objectives (no I/O)."""
