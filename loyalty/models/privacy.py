from django.db import models

from .shop import Shop


class PrivacyRequest(models.Model):
    """A customers/data_request from Shopify and the export assembled for it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="privacy_requests")
    customer_id = models.BigIntegerField(null=True, blank=True)
    shopify_request_id = models.BigIntegerField(null=True, blank=True)
    export = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"data request {self.shopify_request_id} for {self.customer_id}"
