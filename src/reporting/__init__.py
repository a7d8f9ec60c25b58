"""SHAP views, figures and the stakeholder report."""
