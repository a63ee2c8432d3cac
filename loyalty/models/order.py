from django.db import models

from .member import Member
from .shop import Shop


class Order(models.Model):
    """What the app knows of one Shopify order, merged from every webhook that named it.

    Deliveries arrive late, twice and out of order, so each fact here only ever moves one
    way (seen paid, cancelled) and the points an order holds are recomputed from the facts
    (loyalty.services.orders.order_settle), never accumulated from deliveries.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    order_id = models.BigIntegerField()
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=64, blank=True, default="")
    # False while only a refund has named this order: its own webhook is still to come.
    seen = models.BooleanField(default=False)
    paid = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    test = models.BooleanField(default=False)
    source_name = models.CharField(max_length=64, blank=True, default="")
    taxes_included = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, blank=True, default="")
    # In shop money: subtotal after discounts, before shipping and tax, before any refund.
    earning_base = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Points the order earned when first seen paid (P); null until it earns.
    points_earned = models.IntegerField(null=True, blank=True)
    # Points the order still gives its member now (available and pending together).
    points_held = models.IntegerField(default=0)
    # Whether any refund of this order was stored, so that settling an order without
    # refunds needs no refund query.
    has_refunds = models.BooleanField(default=False)
    # Pending points of this order become available at this time; null once released.
    release_at = models.DateTimeField(null=True, blank=True)
    not_earning_reason = models.CharField(max_length=64, blank=True, default="")
    # Dashboard facts, set once when the order is counted (first seen paid, not a test):
    # when it was placed (Shopify's processed_at), its total in shop money, and whether its
    # customer was a member before it was placed (loyalty.stats.orders).
    placed_at = models.DateTimeField(null=True, blank=True)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    member_order = models.BooleanField(null=True, blank=True)
    # Hash naming the customer, or a guest's email; blank for a guest without one.
    buyer = models.CharField(max_length=64, blank=True, default="")
    # Whether the order used a reward this app gave (a redeemed discount code).
    used_reward = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "order_id"], name="order_unique_id"),
            models.CheckConstraint(
                condition=models.Q(points_held__gte=0), name="order_held_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["release_at"],
                name="order_release_due",
                condition=models.Q(release_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}@{self.shop_id}"


class Refund(models.Model):
    """A Shopify refund of an order's line items, kept even if the order is not known yet."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="refunds")
    order_id = models.BigIntegerField()
    refund_id = models.BigIntegerField()
    # Sums over refund_line_items, in shop money. Shipping refunds are not included.
    line_subtotal = models.DecimalField(max_digits=16, decimal_places=2)
    line_tax = models.DecimalField(max_digits=16, decimal_places=2)
    refunded_at = models.DateTimeField(null=True, blank=True)
    applied = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "refund_id"], name="refund_unique_id"),
        ]
        indexes = [models.Index(fields=["shop", "order_id"], name="refund_shop_order")]

    def __str__(self) -> str:
        return f"refund {self.refund_id} of order {self.order_id}"
