"""The canonical transaction columns every later step relies on."""

REQUIRED = ("customer_id", "timestamp", "amount")
CANONICAL = (
    "customer_id",
    "order_id",
    "timestamp",
    "amount",
    "quantity",
    "unit_price",
    "product_id",
    "category",
    "channel",
    "country",
)
STRING_COLUMNS = ("customer_id", "order_id", "product_id", "category", "channel", "country")
NUMERIC_COLUMNS = ("amount", "quantity", "unit_price")
# Added by cleaning: the line's quantity is beyond the configured limit (kept, only flagged).
EXTREME_FLAG = "is_extreme_quantity"
