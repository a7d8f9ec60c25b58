"""Judging the models: metrics, baselines, the one- and multi-cutoff backtests, the leaderboard
and champion decision, and their plots."""
