from datetime import datetime
from typing import Any

from loyalty.models import Shop
from loyalty.services.shops import shop_uninstalled

from ..models import Delivery


def app_uninstalled(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    # Shopify has already revoked the token; drop ours and stop processing the shop. The
    # trigger time lets a late delivery from before a reinstall be ignored.
    shop_uninstalled(shop=shop, occurred_at=_triggered_at(delivery.triggered_at))


def _triggered_at(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
