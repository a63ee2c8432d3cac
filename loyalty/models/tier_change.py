from decimal import Decimal

from django.db import models

from .member import Member
from .shop import Shop
from .tier import Tier


class TierChangeCause(models.TextChoices):
    EARNED = "earned", "Reached by an order"
    WINDOW = "window", "Below the threshold over the last 12 months"
    RECOMPUTED = "recomputed", "The program's tiers changed"


class TierChange(models.Model):
    """One move of a member between VIP tiers, for the member's history (not the ledger).

    The tiers' names are copied: the history still reads right after a tier is renamed or
    deleted. `key` makes a job's move happen once: the nightly demotion uses its day, so a
    member moves down at most once a day whatever reruns the job.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="tier_changes")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Blank: no tier.
    from_name = models.CharField(max_length=64, blank=True, default="")
    to_name = models.CharField(max_length=64, blank=True, default="")
    cause = models.CharField(max_length=16, choices=TierChangeCause.choices)
    # What the member had counted towards tiers when they moved (tier_basis, tier_window).
    measure = models.IntegerField(default=0)
    key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "key"],
                condition=~models.Q(key=""),
                name="tier_change_unique_key",
            ),
            models.CheckConstraint(
                condition=models.Q(cause__in=TierChangeCause.values), name="tier_change_cause_known"
            ),
        ]
        indexes = [models.Index(fields=["member", "-created_at"], name="tier_change_member_newest")]

    def __str__(self) -> str:
        return f"{self.from_name or '-'} -> {self.to_name or '-'} ({self.member_id})"


class TierTally(models.Model):
    """What one member's orders counted towards tiers on one day (the shop's day).

    Points from orders and amounts spent on them, less what refunds and cancellations took
    back, filed under the day the order was placed. A member's measure is the sum of their
    rows (lifetime) or of the rows of the last 365 days (rolling 12 months): one indexed
    sum, never a scan of the ledger.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_tallies")
    day = models.DateField()
    points = models.IntegerField(default=0)
    # In the shop's currency.
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="tier_tally_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}: {self.points} points, {self.amount}"
