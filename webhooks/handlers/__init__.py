"""One handler per topic: read the payload, call loyalty services. Nothing else writes."""

from collections.abc import Callable
from typing import Any

from . import app, customers, orders, privacy

Handler = Callable[..., None]

HANDLERS: dict[str, Handler] = {
    "orders/create": orders.order_changed,
    "orders/paid": orders.order_changed,
    "orders/updated": orders.order_changed,
    "orders/cancelled": orders.order_changed,
    "refunds/create": orders.refund_created,
    "customers/create": customers.customer_created,
    "customers/update": customers.customer_updated,
    "app/uninstalled": app.app_uninstalled,
    "customers/data_request": privacy.customer_data_request,
    "customers/redact": privacy.customer_redact,
    "shop/redact": privacy.shop_redact,
}

# Processed even for a shop that uninstalled the app: Shopify sends the privacy topics
# after an uninstall, and the law wants them acted on.
ALWAYS_PROCESSED = frozenset(
    {"app/uninstalled", "customers/data_request", "customers/redact", "shop/redact"}
)

__all__ = ["ALWAYS_PROCESSED", "HANDLERS", "Any"]
