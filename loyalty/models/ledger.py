from django.db import models

from .member import Member
from .shop import Shop


class Reason(models.TextChoices):
    ORDER_EARNED = "order_earned", "Points for an order"
    ORDER_REFUNDED = "order_refunded", "Order refunded"
    ORDER_CANCELLED = "order_cancelled", "Order cancelled"
    POINTS_RELEASED = "points_released", "Pending points became available"
    SIGNUP_BONUS = "signup_bonus", "Signup bonus"
    MANUAL_ADJUSTMENT = "manual_adjustment", "Adjusted by the store"
    IMPORTED = "imported", "Starting balance imported"
    REWARD_REDEEMED = "reward_redeemed", "Spent on a reward"
    # Shopify refused the discount or could not be reached in time; `note` says which.
    REDEMPTION_REFUNDED = "redemption_refunded", "Points back: the reward could not be made"
    CODE_EXPIRED_REFUND = "code_expired_refund", "Points back: the code expired unused"
    BIRTHDAY_BONUS = "birthday_bonus", "Birthday bonus"
    # The balance left after `Program.expiry_days` without earning or redeeming.
    POINTS_EXPIRED = "points_expired", "Points expired"
    REVIEW_REWARDED = "review_rewarded", "Points for a product review"
    REFERRAL_REWARDED = "referral_rewarded", "A referred friend ordered"
    # The friend's order was fully refunded or cancelled while the reward was on hold.
    REFERRAL_REVERSED = "referral_reversed", "Referral reward taken back"
    TIER_ENTRY = "tier_entry", "Reward for reaching a VIP tier"


class LedgerEntry(models.Model):
    """One append-only change to a member's points.

    Entries form a chain per member: entry n records the balances before it (`prev_*`)
    and after it, and the database checks that after = before + change and that `prev_*`
    are exactly entry n-1's balances (a composite foreign key added in migration 0002 on
    PostgreSQL). With the member row pointing at its newest entry the same way, a balance
    that does not equal the sum of its entries cannot be committed.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="ledger_entries")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="ledger_entries")
    sequence = models.IntegerField()
    points = models.IntegerField(default=0, help_text="Change to available points")
    pending_points = models.IntegerField(default=0, help_text="Change to pending points")
    prev_sequence = models.IntegerField(null=True, blank=True)
    prev_balance = models.IntegerField(default=0)
    prev_pending = models.IntegerField(default=0)
    balance_after = models.IntegerField()
    pending_after = models.IntegerField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    # Makes every writer safe to retry: the same operation always uses the same key.
    idempotency_key = models.CharField(max_length=200)
    order_id = models.BigIntegerField(null=True, blank=True)
    refund_id = models.BigIntegerField(null=True, blank=True)
    # When pending points become available (entries that add pending points only).
    available_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=255, blank=True, default="")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], name="ledger_unique_key"),
            models.UniqueConstraint(fields=["member", "sequence"], name="ledger_unique_sequence"),
            # Target of the chain's composite foreign keys.
            models.UniqueConstraint(
                fields=["member", "sequence", "balance_after", "pending_after"],
                name="ledger_chain_link",
            ),
            models.CheckConstraint(
                condition=~models.Q(points=0, pending_points=0), name="ledger_changes_something"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after=models.F("prev_balance") + models.F("points")),
                name="ledger_balance_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    pending_after=models.F("prev_pending") + models.F("pending_points")
                ),
                name="ledger_pending_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(pending_after__gte=0), name="ledger_pending_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    prev_sequence__isnull=True, sequence=1, prev_balance=0, prev_pending=0
                )
                | models.Q(prev_sequence=models.F("sequence") - 1),
                name="ledger_sequence_follows",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "order_id"], name="ledger_shop_order"),
            models.Index(fields=["member", "-sequence"], name="ledger_member_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.points:+d}/{self.pending_points:+d}"
