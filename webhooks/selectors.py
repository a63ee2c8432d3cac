"""Reads of the webhook inbox, shared by the admin's JSON API and its Sync page."""

from .models import Delivery

DELIVERIES_SHOWN = 100


def deliveries_in_status(
    *, shop_domain: str, status: str, limit: int = DELIVERIES_SHOWN
) -> list[Delivery]:
    """The shop's newest `limit` deliveries in `status` (a `Status` value), newest first."""
    return list(
        Delivery.objects.filter(shop_domain=shop_domain, status=status).order_by(
            "-received_at", "-id"
        )[:limit]
    )
