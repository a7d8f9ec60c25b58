"""The estimators: BG/NBD and Gamma-Gamma, LightGBM wrappers and their exact SHAP, calibration,
seasonal weights, training on stacked cutoffs, and the segmentation with its naming rules."""
