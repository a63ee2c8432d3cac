from decimal import Decimal

from django.db import models

from .reward import RewardKind
from .shop import Shop
from .tier import TierBasis, TierWindow


class Rounding(models.TextChoices):
    DOWN = "down", "Round down"
    NEAREST = "nearest", "Round to nearest"


# A friend's reward is a discount code made for someone who may not have an account yet, so
# only the kinds a discount code can give.
FRIEND_REWARD_KINDS = (RewardKind.AMOUNT_OFF, RewardKind.PERCENT_OFF, RewardKind.FREE_SHIPPING)


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
    # Each way to earn is off at 0 points.
    birthday_points = models.PositiveIntegerField(default=0)
    review_points = models.PositiveIntegerField(default=0)
    review_photo_bonus_points = models.PositiveIntegerField(default=0)
    referral_advocate_points = models.PositiveIntegerField(default=0)
    # The referred friend's discount, a reward definition without a points cost; a blank
    # kind means friends get none.
    referral_friend_reward_kind = models.CharField(max_length=16, blank=True, default="")
    referral_friend_reward_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0")
    )
    referral_friend_reward_minimum_subtotal = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    referral_friend_reward_expires_after_days = models.PositiveIntegerField(null=True, blank=True)
    # Rewarded referrals per advocate per calendar month; null: no cap.
    referral_monthly_cap = models.PositiveIntegerField(null=True, blank=True, default=10)
    # Days without earning or redeeming after which points expire; null: never.
    expiry_days = models.PositiveIntegerField(null=True, blank=True)
    # Days before expiry a member is reminded; null: no reminder.
    expiry_reminder_days = models.PositiveIntegerField(null=True, blank=True, default=30)
    # A redeemed code that expires unused gives its points back (once).
    expired_code_points_return = models.BooleanField(default=False)
    tier_basis = models.CharField(
        max_length=16, choices=TierBasis.choices, default=TierBasis.POINTS_EARNED
    )
    tier_window = models.CharField(
        max_length=24, choices=TierWindow.choices, default=TierWindow.LIFETIME
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_per_unit__gte=0), name="program_rate_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(rounding__in=["down", "nearest"]), name="program_rounding_known"
            ),
            models.CheckConstraint(
                condition=models.Q(referral_friend_reward_kind__in=["", *FRIEND_REWARD_KINDS]),
                name="program_friend_reward_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(referral_friend_reward_value__gte=0),
                name="program_friend_reward_value_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(referral_friend_reward_kind=RewardKind.PERCENT_OFF)
                | models.Q(referral_friend_reward_value__lte=100),
                name="program_friend_reward_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(referral_friend_reward_kind__in=["", RewardKind.FREE_SHIPPING])
                | models.Q(referral_friend_reward_value=0),
                name="program_friend_reward_valueless_has_no_value",
            ),
            models.CheckConstraint(
                condition=~models.Q(referral_friend_reward_kind="")
                | models.Q(
                    referral_friend_reward_minimum_subtotal__isnull=True,
                    referral_friend_reward_expires_after_days__isnull=True,
                ),
                name="program_no_friend_reward_has_no_terms",
            ),
            models.CheckConstraint(
                condition=models.Q(referral_friend_reward_minimum_subtotal__isnull=True)
                | models.Q(referral_friend_reward_minimum_subtotal__gte=0),
                name="program_friend_reward_minimum_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(referral_friend_reward_expires_after_days__isnull=True)
                | models.Q(referral_friend_reward_expires_after_days__gt=0),
                name="program_friend_reward_expiry_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(referral_monthly_cap__isnull=True)
                | models.Q(referral_monthly_cap__gt=0),
                name="program_referral_cap_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_days__isnull=True) | models.Q(expiry_days__gt=0),
                name="program_expiry_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_reminder_days__isnull=True)
                | models.Q(expiry_reminder_days__gt=0),
                name="program_expiry_reminder_positive",
            ),
            # A reminder is sent before points expire, so it cannot be further ahead than
            # the expiry itself.
            models.CheckConstraint(
                condition=models.Q(expiry_days__isnull=True)
                | models.Q(expiry_reminder_days__isnull=True)
                | models.Q(expiry_reminder_days__lt=models.F("expiry_days")),
                name="program_expiry_reminder_before_expiry",
            ),
            models.CheckConstraint(
                condition=models.Q(tier_basis__in=TierBasis.values), name="program_tier_basis_known"
            ),
            models.CheckConstraint(
                condition=models.Q(tier_window__in=TierWindow.values),
                name="program_tier_window_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Program of {self.shop_id}"
