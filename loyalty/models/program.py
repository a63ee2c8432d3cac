from decimal import Decimal

from django.db import models

from .shop import Shop


class Rounding(models.TextChoices):
    DOWN = "down", "Round down"
    NEAREST = "nearest", "Round to nearest"


class Program(models.Model):
    """A shop's loyalty program: the rules its members earn by."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="program")
    # Points per one unit of the shop's currency, on the order's earning base.
    points_per_unit = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("1"))
    rounding = models.CharField(max_length=16, choices=Rounding.choices, default=Rounding.DOWN)
    pos_orders_earn = models.BooleanField(default=True)
    # Points from an order stay pending this many days, so a quick refund takes them back
    # before they can be spent.
    hold_days = models.PositiveIntegerField(default=0)
    signup_points = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_per_unit__gte=0), name="program_rate_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(rounding__in=["down", "nearest"]), name="program_rounding_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Program of {self.shop_id}"
