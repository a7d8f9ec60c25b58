"""custlens: customer segments, churn risk, repurchase probability and lifetime value."""

from custlens.errors import CustlensError, DataError

__version__ = "0.1.0"
__all__ = ["CustlensError", "DataError", "__version__"]
