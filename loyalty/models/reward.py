from decimal import Decimal

from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact

from .shop import Shop
from .tier import Tier


class RewardKind(models.TextChoices):
    AMOUNT_OFF = "amount_off", "Amount off"
    PERCENT_OFF = "percent_off", "Percent off"
    FREE_SHIPPING = "free_shipping", "Free shipping"
    FREE_PRODUCT = "free_product", "Free product"
    STORE_CREDIT = "store_credit", "Store credit"


# Kinds whose value is not a number the merchant chooses: it is always 0.
VALUELESS_KINDS = (RewardKind.FREE_SHIPPING, RewardKind.FREE_PRODUCT)
# Kinds a shopper may buy in steps ("100 points for each 1.00 off"): amounts of money.
VARIABLE_KINDS = (RewardKind.AMOUNT_OFF, RewardKind.STORE_CREDIT)


class Reward(models.Model):
    """One entry of a shop's rewards catalogue: what members can spend their points on.

    Deleting a reward only sets `deleted_at`: redemptions will refer to it, so the row stays
    while it leaves the catalogue.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="rewards")
    kind = models.CharField(max_length=16, choices=RewardKind.choices)
    # Blank: the catalogue shows a title made from kind and value (`title`).
    name = models.CharField(max_length=100, blank=True, default="")
    points_cost = models.PositiveIntegerField()
    # An amount in the shop's currency, or a percent for percent_off; 0 when valueless.
    value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    minimum_subtotal = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    expires_after_days = models.PositiveIntegerField(null=True, blank=True)
    # The Shopify product a free_product reward gives.
    product_id = models.BigIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    # Only members in this tier or a higher one may redeem it; null: every member. A tier a
    # reward names cannot be deleted (the reward would open to everyone unnoticed).
    minimum_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="rewards"
    )
    # A variable reward lets the shopper choose how many points to spend: any multiple of
    # `points_step` from `points_cost` up to `maximum_points`, each step worth `value_step`.
    # `value` is then what `points_cost` buys.
    variable = models.BooleanField(default=False)
    points_step = models.PositiveIntegerField(null=True, blank=True)
    value_step = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    maximum_points = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "points_cost", "id"], name="reward_catalogue")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=RewardKind.values), name="reward_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(points_cost__gt=0), name="reward_points_cost_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="reward_value_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=RewardKind.PERCENT_OFF) | models.Q(value__lte=100),
                name="reward_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=VALUELESS_KINDS) | models.Q(value=0),
                name="reward_valueless_kind_has_no_value",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=RewardKind.FREE_PRODUCT)
                | models.Q(product_id__isnull=False),
                name="reward_free_product_has_product",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_subtotal__isnull=True)
                | models.Q(minimum_subtotal__gte=0),
                name="reward_minimum_subtotal_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_after_days__isnull=True)
                | models.Q(expires_after_days__gt=0),
                name="reward_expiry_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    variable=False,
                    points_step__isnull=True,
                    value_step__isnull=True,
                    maximum_points__isnull=True,
                )
                | models.Q(
                    variable=True,
                    kind__in=VARIABLE_KINDS,
                    points_step__gt=0,
                    value_step__gt=0,
                    maximum_points__gte=models.F("points_cost"),
                ),
                name="reward_variable_has_steps",
            ),
            models.CheckConstraint(
                condition=models.Q(variable=False)
                | models.Q(
                    Exact(Mod("points_cost", "points_step"), 0),
                    Exact(Mod("maximum_points", "points_step"), 0),
                ),
                name="reward_variable_whole_steps",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.points_cost} points ({self.shop_id})"

    def value_for(self, points: int) -> Decimal:
        """What `points` buy of this reward: its value, or for a variable reward the value
        of that many whole steps."""
        if not self.variable:
            return self.value
        return self.value_step * (points // self.points_step)

    def title(self, currency: str) -> str:
        """The merchant's name for the reward, or one made from its kind and value."""
        if self.name:
            return self.name
        amount = f"{self.value:.2f} {currency}"
        return {
            RewardKind.AMOUNT_OFF: f"{amount} off",
            RewardKind.PERCENT_OFF: f"{percent_text(self.value)}% off",
            RewardKind.FREE_SHIPPING: "Free shipping",
            RewardKind.FREE_PRODUCT: "Free product",
            RewardKind.STORE_CREDIT: f"{amount} store credit",
        }[self.kind]


def percent_text(value: Decimal) -> str:
    """A percent without trailing zeros or exponent: 10.00 -> "10", 12.50 -> "12.5"."""
    return format(value.normalize(), "f")
