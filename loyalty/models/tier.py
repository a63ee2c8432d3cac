from decimal import Decimal

from django.db import models
from django.db.models.functions import Lower

from .shop import Shop


class TierBasis(models.TextChoices):
    POINTS_EARNED = "points_earned", "Points earned"
    AMOUNT_SPENT = "amount_spent", "Amount spent"


class TierWindow(models.TextChoices):
    LIFETIME = "lifetime", "Lifetime"
    ROLLING_12_MONTHS = "rolling_12_months", "Rolling 12 months"


class Tier(models.Model):
    """A VIP tier of a shop's program: members past its threshold earn at its multiplier.

    The threshold counts what the program's `tier_basis` says (points earned, or whole units
    of the shop's currency spent) over its `tier_window`.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=64)
    threshold = models.PositiveIntegerField()
    # Points from an order are multiplied by this (1.25: a quarter more than the base rate).
    multiplier = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    # Points a member is given on first reaching the tier (once per member per tier); 0: none.
    entry_points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Case-insensitive: "Gold" and "gold" would be the same tier to a shopper.
            models.UniqueConstraint(Lower("name"), "shop", name="tier_unique_name"),
            models.UniqueConstraint(fields=["shop", "threshold"], name="tier_unique_threshold"),
            models.CheckConstraint(condition=~models.Q(name=""), name="tier_has_name"),
            models.CheckConstraint(
                condition=models.Q(multiplier__gte=1), name="tier_multiplier_at_least_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.threshold} ({self.shop_id})"
