"""Point-in-time customer features (built in the features issue)."""
