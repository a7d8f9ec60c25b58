"""Glue between Hydra configs and the library, used by the scripts."""
