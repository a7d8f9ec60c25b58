"""Experiment tracking: the only code that talks to MLflow."""
