"""Segmentation, churn, repurchase and lifetime-value models."""
