from django.db import models

from .member import Member
from .order import Order
from .shop import Shop


class OrderProduct(models.Model):
    """A product a counted paid order contained: what makes its member a buyer of it.

    Stored when the order is first counted (loyalty.services.orders.order_settle); orders
    counted before this table existed have none, and their reviews are refused.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_products")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="products")
    product_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "product_id"], name="order_product_unique")
        ]
        indexes = [models.Index(fields=["shop", "product_id"], name="order_product_shop_product")]

    def __str__(self) -> str:
        return f"product {self.product_id} in {self.order_id}"


class ReviewStatus(models.TextChoices):
    RECEIVED = "received", "Received, not processed yet"
    REWARDED = "rewarded", "Points given"
    REFUSED = "refused", "No points: see why"
    FAILED = "failed", "Failed: replay it"


class ReviewDelivery(models.Model):
    """One verified review a review app sent, stored whole before it is processed.

    A review is known by (shop, source, review_id): the same review sent again is not
    stored twice. `outcome` says why a refused review earned nothing, or what failed.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="review_deliveries")
    source = models.CharField(max_length=16)
    review_id = models.CharField(max_length=128)
    body = models.BinaryField()
    received_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.RECEIVED
    )
    outcome = models.TextField(blank=True, default="")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    product_id = models.BigIntegerField(null=True, blank=True)
    points = models.IntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "source", "review_id"], name="review_delivery_unique"
            )
        ]
        indexes = [
            models.Index(fields=["shop", "-received_at"], name="review_delivery_newest"),
            models.Index(
                fields=["status"],
                name="review_delivery_failed",
                condition=models.Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} review {self.review_id}@{self.shop_id}"
