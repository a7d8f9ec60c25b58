"""The scorer's MLflow model, logged as code: MLflow runs this file to build the pyfunc model
(`custlens.tracking.pyfunc.CustlensModel`), whose `load_context` reads the scorer artifact.
Logging a file rather than a pickled object keeps the model class out of the pickle."""

import mlflow.models

from custlens.tracking.pyfunc import CustlensModel

mlflow.models.set_model(CustlensModel())
