from typing import Any

from loyalty.models import Shop
from loyalty.services.shops import shop_uninstalled

from ..models import Delivery


def app_uninstalled(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    # Shopify has already revoked the token; drop ours and stop processing the shop.
    shop_uninstalled(shop=shop)
